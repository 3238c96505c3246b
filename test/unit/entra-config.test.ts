/** ENTRA_AUTHORITY: Microsoft's by default, https only on AWS, loopback http only on the local server. */
import { describe, expect, it } from 'vitest';
import { readConfig } from '../../functions/config.js';

describe('ENTRA_AUTHORITY', () => {
  it('defaults to login.microsoftonline.com and accepts another https authority', () => {
    expect(readConfig({}).entraAuthority).toBe('https://login.microsoftonline.com');
    expect(readConfig({ ENTRA_AUTHORITY: 'https://login.microsoftonline.us/' }).entraAuthority).toBe(
      'https://login.microsoftonline.us',
    );
  });

  it('refuses http on AWS (PUBLIC_SCHEME https), and http to anything but loopback locally', () => {
    expect(() => readConfig({ ENTRA_AUTHORITY: 'http://127.0.0.1:4000' })).toThrow(/https/);
    expect(() => readConfig({ PUBLIC_SCHEME: 'http', ENTRA_AUTHORITY: 'http://entra.example.com' })).toThrow(
      /https/,
    );
    expect(
      readConfig({ PUBLIC_SCHEME: 'http', ENTRA_AUTHORITY: 'http://127.0.0.1:4000' }).entraAuthority,
    ).toBe('http://127.0.0.1:4000');
    expect(() => readConfig({ ENTRA_AUTHORITY: 'not a url' })).toThrow(/URL/);
  });
});
