import type { Config } from '../config.js';
import { isRegionCode, type RegionCode } from '../regions.js';
import { SLUG_PATTERN } from './tenant.js';

export type HostResolution =
  | { kind: 'tenant'; slug: string; region: RegionCode }
  | { kind: 'malformed'; reason: string }
  | { kind: 'misdirected'; region: string };

const REGION_LABEL = /^[a-z]{2}$/;

/**
 * Splits `<tenant>.<region>.<base domain>[:port]` (tenant first: every request is resolved to one tenant before anything else). Malformed hosts, and
 * region codes this deployment does not serve, are told apart so each gets its own status.
 */
export function resolveHost(hostHeader: string | undefined, cfg: Config): HostResolution {
  if (!hostHeader) return { kind: 'malformed', reason: 'no Host header' };
  const host = hostHeader.trim().toLowerCase();
  const m = /^([a-z0-9.-]+?)(?::(\d{1,5}))?$/.exec(host);
  if (!m?.[1]) return { kind: 'malformed', reason: 'the Host header is not a host name' };
  if (m[2] !== undefined && Number(m[2]) > 65535)
    return { kind: 'malformed', reason: 'the port is out of range' };
  const name = m[1].replace(/\.$/, '');
  const suffix = `.${cfg.baseDomain}`;
  if (!name.endsWith(suffix)) return { kind: 'malformed', reason: `the host is not under ${cfg.baseDomain}` };
  const labels = name.slice(0, -suffix.length).split('.');
  if (labels.length !== 2)
    return { kind: 'malformed', reason: 'the host must be <tenant>.<region>.' + cfg.baseDomain };
  const [slug, region] = labels as [string, string];
  if (!REGION_LABEL.test(region))
    return { kind: 'malformed', reason: 'the region label is not a region code' };
  if (slug.length < 2 || slug.length > 63 || !SLUG_PATTERN.test(slug)) {
    return { kind: 'malformed', reason: 'the tenant label is not a valid slug' };
  }
  if (!isRegionCode(region) || !cfg.servedRegions.includes(region)) return { kind: 'misdirected', region };
  return { kind: 'tenant', slug, region };
}
