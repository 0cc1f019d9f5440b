import { describe, expect, it } from 'vitest';
import { parseCoordinate, parseMlpTime, parseSlia, reasonOfResult, renderSlir } from './mlpMessages.ts';

describe('MLP messages', () => {
  it('reads coordinates in DMS with hemisphere and in decimal degrees, refusing the wrong axis or range', () => {
    expect(parseCoordinate('30 16 28.308N', 'lat')).toBeCloseTo(30.27453, 5);
    expect(parseCoordinate('45 15 33.444W', 'lon')).toBeCloseTo(-45.25929, 5);
    expect(parseCoordinate('-12.5', 'lat')).toBe(-12.5);
    expect(() => parseCoordinate('30 16 28.308E', 'lat')).toThrow(/hemisphere/);
    expect(() => parseCoordinate('95.0', 'lat')).toThrow(/out of range/);
  });

  it('turns MLP local time with utc_off into UTC', () => {
    expect(new Date(parseMlpTime('20020623134453', '+0200')).toISOString()).toBe('2002-06-23T11:44:53.000Z');
    expect(new Date(parseMlpTime('20020623134453', '-0330')).toISOString()).toBe('2002-06-23T17:14:53.000Z');
    expect(() => parseMlpTime('2002-06-23', undefined)).toThrow(/YYYYMMDDhhmmss/);
  });

  it('reads the OMA example answer with its DOCTYPE, for the msid asked about among several', () => {
    const body = `<?xml version="1.0" ?>
<!DOCTYPE svc_result SYSTEM "MLP_SVC_RESULT_310.DTD">
<svc_result ver="3.1.0"><slia ver="3.0.0">
  <pos><msid>461018765710</msid><pd><time utc_off="+0200">20020623134453</time>
    <shape><CircularArea srsName="www.epsg.org#4326"><coord><X>30 16 28.308N</X><Y>45 15 33.444E</Y></coord><radius>240</radius></CircularArea></shape></pd></pos>
  <pos><msid>461018765711</msid><poserr><result resid="4">UNKNOWN SUBSCRIBER</result><time utc_off="+0300">20020623134454</time></poserr></pos>
</slia></svc_result>`;
    const o = parseSlia(body, '461018765710');
    expect(o.ok && o.fact.radiusM).toBe(240);
    expect(parseSlia(body, '461018765711')).toMatchObject({ ok: false, reason: 'unknown-subscriber' });
    expect(parseSlia(body, '999')).toMatchObject({ ok: false, reason: 'malformed-answer' });
  });

  it('maps result codes to reasons', () => {
    expect([1, 4, 5, 6, 105, 202].map(reasonOfResult)).toEqual([
      'system-failure',
      'unknown-subscriber',
      'position-method-failure',
      'position-method-failure',
      'system-failure',
      'refused',
    ]);
  });

  it('escapes what it puts in the SLIR', () => {
    const x = renderSlir({ clientId: 'a&b', password: null, msisdn: '1', horizontalAccuracyM: 10.4, maxLocationAgeS: 60 });
    expect(x).toContain('<id>a&amp;b</id>');
    expect(x).not.toContain('<pwd>');
    expect(x).toContain('<hor_acc>10</hor_acc><max_loc_age>60</max_loc_age>');
  });
});
