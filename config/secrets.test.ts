import { describe, expect, it } from 'vitest';
import { maskedPasswords, maskedUrl } from './secrets.ts';

describe('maskedUrl', () => {
  it("masks the user info's password and leaves the rest as it is", () => {
    expect(maskedUrl('postgres://presence:S3CRET@db.example.net:5432/presence?sslmode=require')).toBe(
      'postgres://presence:****@db.example.net:5432/presence?sslmode=require',
    );
    expect(maskedUrl('https://u:p%40ss@registry.example.net/apis')).toBe('https://u:****@registry.example.net/apis');
    for (const plain of ['postgres://presence@127.0.0.1:5432/presence', 'http://127.0.0.1:8081/apis/ccompat/v7', '127.0.0.1:9092', 'not a url'])
      expect(maskedUrl(plain)).toBe(plain);
  });
});

describe('maskedUrl, the hard cases', () => {
  it('masks a password holding an unencoded / or @, and a password query parameter', () => {
    expect(maskedUrl('postgres://u:pa/ss@db:5432/presence')).toBe('postgres://u:****@db:5432/presence');
    expect(maskedUrl('postgres://u:p@ss@db:5432/presence')).toBe('postgres://u:****@db:5432/presence');
    expect(maskedUrl('postgres://u@db:5432/presence?sslmode=require&password=S3CRET')).toBe('postgres://u@db:5432/presence?sslmode=require&password=****');
    // An @ in the query is not user info: the host stays readable.
    expect(maskedUrl('postgres://db:5432/x?application_name=a@b')).toBe('postgres://db:5432/x?application_name=a@b');
  });
});

describe('maskedPasswords', () => {
  it('masks password= values on a command line: JVM options and Kafka --add-scram', () => {
    const line = 'java -Dapicurio.datasource.password=S3,CRET -jar x.jar --add-scram SCRAM-SHA-512=[name=presence,password=S3CRET] --other';
    expect(maskedPasswords(line)).toBe('java -Dapicurio.datasource.password=**** -jar x.jar --add-scram SCRAM-SHA-512=[name=presence,password=****] --other');
  });
});
