// ITU-T Q.763 Table 4 message types, with each message's layout (Q.763
// Tables 32-...): octets of mandatory fixed part, number of mandatory variable
// parameters (each reached by a one-octet pointer) and whether an optional
// part (pointer + TLV list) follows.
interface IsupMessageFormat {
  name: string;
  fixed: number;
  variable: number;
  optional: boolean;
}

const f = (name: string, fixed: number, variable: number, optional: boolean): IsupMessageFormat => ({ name, fixed, variable, optional });

export const ISUP_MESSAGE_TYPES: Readonly<Record<number, IsupMessageFormat>> = {
  0x01: f('IAM', 5, 1, true), // NCI, FCI(2), CPC, TMR | called party number
  0x02: f('SAM', 0, 1, true), // subsequent number
  0x03: f('INR', 2, 0, true),
  0x04: f('INF', 2, 0, true),
  0x05: f('COT', 1, 0, false),
  0x06: f('ACM', 2, 0, true), // backward call indicators
  0x07: f('CON', 2, 0, true),
  0x08: f('FOT', 0, 0, true),
  0x09: f('ANM', 0, 0, true),
  0x0c: f('REL', 0, 1, true), // cause indicators
  0x0d: f('SUS', 1, 0, true),
  0x0e: f('RES', 1, 0, true),
  0x10: f('RLC', 0, 0, true),
  0x11: f('CCR', 0, 0, false),
  0x12: f('RSC', 0, 0, false),
  0x13: f('BLO', 0, 0, false),
  0x14: f('UBL', 0, 0, false),
  0x15: f('BLA', 0, 0, false),
  0x16: f('UBA', 0, 0, false),
  0x17: f('GRS', 0, 1, false), // range and status
  0x18: f('CGB', 1, 1, false),
  0x19: f('CGU', 1, 1, false),
  0x1a: f('CGBA', 1, 1, false),
  0x1b: f('CGUA', 1, 1, false),
  0x1f: f('FAR', 1, 0, true),
  0x20: f('FAA', 1, 0, true),
  0x21: f('FRJ', 1, 1, true),
  0x24: f('LPA', 0, 0, false),
  0x28: f('PAM', 0, 0, false), // pass-along: embedded message not decoded
  0x29: f('GRA', 0, 1, false),
  0x2a: f('CQM', 0, 1, false),
  0x2b: f('CQR', 0, 2, false),
  0x2c: f('CPG', 1, 0, true), // event information
  0x2d: f('USR', 0, 1, true),
  0x2e: f('UCIC', 0, 0, false),
  0x2f: f('CFN', 0, 1, true), // cause indicators
  0x30: f('OLM', 0, 0, false),
  0x32: f('NRM', 0, 0, true),
  0x33: f('FAC', 0, 0, true),
  0x34: f('UPT', 0, 0, true),
  0x35: f('UPA', 0, 0, true),
  0x36: f('IDR', 0, 0, true),
  0x37: f('IRS', 0, 0, true),
  0x38: f('SGM', 0, 0, true),
  0x40: f('LPR', 0, 0, true),
  0x41: f('APT', 0, 0, true),
  0x42: f('PRI', 0, 0, true),
  0x43: f('SAN', 0, 0, true),
};

export const ISUP_IAM = 0x01;
export const ISUP_ACM = 0x06;
export const ISUP_CON = 0x07;
export const ISUP_CPG = 0x2c;
