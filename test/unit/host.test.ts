import { describe, expect, it } from 'vitest';
import { readConfig } from '../../functions/config.js';
import { resolveHost, type HostResolution } from '../../functions/tenants/host.js';

const all = readConfig({ BASE_DOMAIN: 'localhost' });
const onlyUs = readConfig({ BASE_DOMAIN: 'ID.Example.com', REGIONS: 'us' });

const slug63 = `a${'b'.repeat(61)}c`;
const slug64 = `a${'b'.repeat(62)}c`;

describe('resolveHost: tenant hosts', () => {
  it.each<[string, string, ReturnType<typeof readConfig>, string, string]>([
    ['plain', 'acme.us.localhost', all, 'acme', 'us'],
    ['with port', 'acme.eu.localhost:3000', all, 'acme', 'eu'],
    ['upper case', 'ACME.AU.LocalHost', all, 'acme', 'au'],
    ['upper case with port', 'Acme-1.US.LOCALHOST:8443', all, 'acme-1', 'us'],
    ['trailing dot', 'acme.us.localhost.', all, 'acme', 'us'],
    ['trailing dot with port', 'acme.us.localhost.:3000', all, 'acme', 'us'],
    ['surrounding whitespace', '  acme.au.localhost  ', all, 'acme', 'au'],
    ['2-char slug', 'ab.us.localhost', all, 'ab', 'us'],
    ['63-char slug', `${slug63}.us.localhost`, all, slug63, 'us'],
    ['digits and hyphens', '0-9.eu.localhost', all, '0-9', 'eu'],
    ['multi-label base domain', 'acme.us.id.example.com', onlyUs, 'acme', 'us'],
    ['multi-label base domain, upper case, port', 'ACME.US.ID.EXAMPLE.COM:443', onlyUs, 'acme', 'us'],
  ])('%s: %s', (_name, host, cfg, slug, region) => {
    expect(resolveHost(host, cfg)).toEqual({ kind: 'tenant', slug, region });
  });
});

describe('resolveHost: malformed hosts', () => {
  it.each<[string, string | undefined, ReturnType<typeof readConfig>]>([
    ['no host', undefined, all],
    ['empty host', '', all],
    ['blank host', '   ', all],
    ['IPv4 address', '127.0.0.1', all],
    ['IPv4 address with port', '127.0.0.1:3000', all],
    ['IPv6 address', '[::1]', all],
    ['IPv6 address with port', '[::1]:3000', all],
    ['port out of range', 'acme.us.localhost:70000', all],
    ['bare base domain', 'localhost', all],
    ['region and base domain only', 'us.localhost', all],
    ['wrong base domain', 'acme.us.example.com', all],
    ['base domain as a suffix of a label', 'acme.us.evillocalhost', all],
    ['base domain not at the end', 'acme.us.localhost.evil.com', all],
    ['wrong base domain for config', 'acme.us.localhost', onlyUs],
    ['extra label', 'x.acme.us.localhost', all],
    ['extra label before base domain', 'acme.us.x.localhost', all],
    ['empty slug label', '.us.localhost', all],
    ['empty region label', 'acme..localhost', all],
    ['two trailing dots', 'acme.us.localhost..', all],
    ['1-char slug', 'a.us.localhost', all],
    ['64-char slug', `${slug64}.us.localhost`, all],
    ['slug starting with hyphen', '-acme.us.localhost', all],
    ['slug ending with hyphen', 'acme-.us.localhost', all],
    ['slug with double hyphen', 'ac--me.us.localhost', all],
    ['underscore in slug', 'ac_me.us.localhost', all],
    ['underscore in region', 'acme.u_.localhost', all],
    ['region label of three letters', 'acme.usa.localhost', all],
    ['region label with a digit', 'acme.u1.localhost', all],
    ['non-numeric port', 'acme.us.localhost:http', all],
    ['empty port', 'acme.us.localhost:', all],
    ['user info', 'user@acme.us.localhost', all],
    ['path in host', 'acme.us.localhost/x', all],
    ['non-ASCII slug', 'äcme.us.localhost', all],
  ])('%s: %s', (_name, host, cfg) => {
    const r = resolveHost(host, cfg);
    expect(r.kind).toBe('malformed');
    expect((r as Extract<HostResolution, { kind: 'malformed' }>).reason).toEqual(expect.any(String));
  });
});

describe('resolveHost: regions not served here', () => {
  it.each<[string, string, ReturnType<typeof readConfig>, string]>([
    ['unknown region code', 'acme.xx.localhost', all, 'xx'],
    ['unknown region code, upper case, port', 'ACME.XX.localhost:3000', all, 'xx'],
    ['real region not served (eu)', 'acme.eu.id.example.com', onlyUs, 'eu'],
    ['real region not served (au)', 'acme.au.id.example.com:443', onlyUs, 'au'],
  ])('%s: %s', (_name, host, cfg, region) => {
    expect(resolveHost(host, cfg)).toEqual({ kind: 'misdirected', region });
  });

  it('serves a region once the config lists it', () => {
    const usEu = readConfig({ BASE_DOMAIN: 'id.example.com', REGIONS: 'us,eu' });
    expect(resolveHost('acme.eu.id.example.com', usEu)).toEqual({
      kind: 'tenant',
      slug: 'acme',
      region: 'eu',
    });
    expect(resolveHost('acme.au.id.example.com', usEu)).toEqual({ kind: 'misdirected', region: 'au' });
  });

  it('does not treat inherited object keys as region codes', () => {
    // `isRegionCode` must not be fooled by Object.prototype members.
    expect(resolveHost('acme.to.localhost', all)).toEqual({ kind: 'misdirected', region: 'to' });
  });
});
