// Which SUBSCRIBEs ask for location (issue 19): the Accept of a PIDF type, or an RFC 4661 filter naming location.
import { describe, expect, it } from 'vitest';
import { asksForLocation } from './locationInterest.ts';

const filter = (what: string, attrs = '') =>
  `<?xml version="1.0" encoding="UTF-8"?>
<filter-set xmlns="urn:ietf:params:xml:ns:simple-filter" xmlns:pidf="urn:ietf:params:xml:ns:pidf" xmlns:gp="urn:ietf:params:xml:ns:pidf:geopriv10">
  <ns-bindings><ns-binding prefix="gp" urn="urn:ietf:params:xml:ns:pidf:geopriv10"/></ns-bindings>
  <filter id="f1"${attrs}>${what}</filter>
</filter-set>`;

describe('asksForLocation', () => {
  it('an Accept admitting PIDF (PIDF-LO is PIDF) asks; no Accept is PIDF; other types do not', () => {
    expect(asksForLocation(['application/pidf+xml'], null)).toBe(true);
    expect(asksForLocation(['Application/PIDF+XML;q=0.8'], null)).toBe(true);
    expect(asksForLocation(['application/cpim-pidf+xml'], null)).toBe(true);
    expect(asksForLocation([], null)).toBe(true);
    expect(asksForLocation(['application/xpidf+xml'], null)).toBe(false);
    expect(asksForLocation(['application/dialog-info+xml'], null)).toBe(false);
  });

  it('a filter wins over the Accept: it asks only when it includes location', () => {
    expect(asksForLocation(['application/pidf+xml'], filter('<what><include type="xpath">//gp:geopriv</include></what>'))).toBe(true);
    expect(asksForLocation(['application/pidf+xml'], filter('<what><include type="xpath">//gp:location-info/gml:Point</include></what>'))).toBe(true);
    expect(asksForLocation(['application/pidf+xml'], filter('<what><include type="xpath">//pidf:tuple/pidf:status/pidf:basic</include></what>'))).toBe(false);
    // Excluding something else leaves location in; excluding location or everything takes it out.
    expect(asksForLocation([], filter('<what><exclude type="xpath">//pidf:note</exclude></what>'))).toBe(true);
    expect(asksForLocation([], filter('<what><exclude type="xpath">//gp:geopriv</exclude></what>'))).toBe(false);
    expect(asksForLocation([], filter('<what><exclude type="xpath">/</exclude></what>'))).toBe(false);
    // A filter that is switched off restricts nothing; one with only a trigger restricts when, not what.
    expect(asksForLocation([], filter('<what><include type="xpath">//pidf:basic</include></what>', ' enabled="false"'))).toBe(true);
    expect(asksForLocation([], filter('<trigger><changed from="closed" to="open">//pidf:basic</changed></trigger>'))).toBe(true);
  });

  it('a filter that cannot be read asks nothing (positioning costs the network)', () => {
    expect(asksForLocation(['application/pidf+xml'], Buffer.from('<filter-set><filter>'))).toBe(false);
    expect(asksForLocation(['application/pidf+xml'], '<presence/>')).toBe(false);
  });
});
