import type { Node } from 'constructs';
import { REGIONS, type RegionCode } from '../functions/regions.js';
import { ORIGINATION_ARN } from './sms.js';

/**
 * Deployment settings read from CDK context (`cdk.json`, or `-c key=value` on the command line).
 * Everything is resolved offline: hosted zones are imported by id and name, never looked up, so
 * `cdk synth` needs no AWS credentials.
 *
 * | key | shape | what |
 * | --- | --- | --- |
 * | `baseDomain` | string | tenants live on `<tenant>.<region>.<baseDomain>` (required) |
 * | `hostedZoneId` + `hostedZoneName` | strings | one Route 53 zone for every region's custom domain |
 * | `hostedZones` | `{ "<code>": { "id", "name" } }` | a zone per region (overrides the shared one) |
 * | `domain` | `none` | synthesize regions without a hosted zone on purpose (their tenants are unreachable) |
 * | `signingKeyGeneration` | number, or `{ "<code>": number }` | bump to replace a region's signing key |
 * | `previousSigningKeyArns` | `{ "<code>": [arn, ...] }` or `[arn, ...]` | retired keys still in the JWKS |
 * | `mailFrom` | string, or `{ "<code>": string }` | From address of every mail, an SES-verified identity |
 * | `smsOriginationIdentity` | `{ "<code>": arn }` | the End User Messaging SMS phone number, pool or sender id ARN SMS is sent from (absent: no SMS in that region) |
 * | `signer` | `tenant` (default) or `kms` | each tenant's own keys, or the region's KMS key signs every token |
 * | `publishRegionKey` | boolean (default true) | with `signer=tenant`: keep the region's KMS keys in every JWKS (verification only) while tokens they signed live |
 * | `sourceMaps` | boolean (default false) | bundle source maps and run every function with `--enable-source-maps` (stack traces name the TypeScript source; slower cold starts) |
 *
 * On the command line, object and list values are given as JSON
 * (`-c 'hostedZones={"eu":{"id":"Z123","name":"eu.id.example.com"}}'`); a list may also be
 * comma-separated. A flat key list is split by the region inside each ARN.
 */
export interface RegionSettings {
  code: RegionCode;
  awsRegion: string;
  baseDomain: string;
  /**
   * Route 53 zone that holds `*.<code>.<baseDomain>`; absent only with context `domain=none`
   * (then no custom domain resources, and no tenant of the region can be reached).
   */
  hostedZone: { id: string; name: string } | undefined;
  /** Which signing key signs now: bumping it creates a new key (see lib/signing-key.ts). */
  signingKeyGeneration: number;
  /** Key ARNs retired from signing but still published in the JWKS (verification window). */
  previousSigningKeyArns: string[];
  /** From address of mail sent through SES in this region; absent: the stack refuses mail routes. */
  mailFrom: string | undefined;
  /** End User Messaging SMS phone number, pool or sender id ARN; absent: the region sends no SMS. */
  smsOriginationIdentity: string | undefined;
  /** `tenant`: each tenant's own keys (no KMS call per token); `kms`: the region's KMS key signs. */
  signer: 'tenant' | 'kms';
  /** With `signer=tenant`: the region's KMS keys stay in every JWKS (for tokens signed before the switch). */
  publishRegionKey: boolean;
}

/** A deployment setting is missing or wrong: the operator fixes the context, so no stack trace is needed. */
export class ContextError extends Error {
  override name = 'ContextError';
}

const KEY_ARN = /^arn:aws[a-z-]*:kms:([a-z0-9-]+):(\d{12}):key\/[A-Za-z0-9-]+$/;
const DOMAIN = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;

/** Context values given with `-c` arrive as strings; JSON in them is parsed. */
function parsed(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  const s = value.trim();
  if (s.startsWith('{') || s.startsWith('[')) {
    try {
      return JSON.parse(s);
    } catch {
      throw new ContextError(`Context value is not valid JSON: ${s}`);
    }
  }
  return s;
}

/** A JSON object (keyed by region code), as opposed to a list or a scalar. */
function isMap(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function stringList(key: string, value: unknown): string[] {
  const v = parsed(value);
  if (v === undefined || v === null || v === '') return [];
  if (typeof v === 'string') {
    return v
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  }
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) {
    return v.map((x) => x.trim()).filter(Boolean);
  }
  throw new ContextError(`Context ${key} must be a list of strings`);
}

function zone(key: string, value: unknown): { id: string; name: string } {
  const v = parsed(value) as { id?: unknown; name?: unknown } | undefined;
  if (!v || typeof v !== 'object' || typeof v.id !== 'string' || typeof v.name !== 'string') {
    throw new ContextError(`Context ${key} must be { "id": "<hosted zone id>", "name": "<zone name>" }`);
  }
  return { id: v.id, name: v.name };
}

function baseDomainOf(node: Node): string {
  const baseDomain = String(node.tryGetContext('baseDomain') ?? '')
    .trim()
    .toLowerCase()
    .replace(/\.$/, '');
  if (!DOMAIN.test(baseDomain))
    throw new ContextError(`Context baseDomain must be a DNS name, not "${baseDomain}"`);
  return baseDomain;
}

/** Custom domain: a per-region zone wins over the shared one; none at all means no domain. */
function hostedZoneOf(node: Node, code: RegionCode, baseDomain: string): RegionSettings['hostedZone'] {
  let hostedZone: RegionSettings['hostedZone'];
  const perRegion = parsed(node.tryGetContext('hostedZones'));
  if (perRegion !== undefined && !isMap(perRegion)) {
    throw new ContextError('Context hostedZones must be an object keyed by region code');
  }
  const mine = perRegion?.[code];
  if (mine !== undefined) {
    hostedZone = zone(`hostedZones.${code}`, mine);
  } else {
    const id: unknown = node.tryGetContext('hostedZoneId');
    const name: unknown = node.tryGetContext('hostedZoneName');
    if ((id === undefined) !== (name === undefined)) {
      throw new ContextError('Context hostedZoneId and hostedZoneName go together: set both or neither');
    }
    if (id !== undefined) hostedZone = zone('hostedZoneId/hostedZoneName', { id, name });
  }
  if (!hostedZone) return undefined;
  hostedZone = {
    id: hostedZone.id.replace(/^\/hostedzone\//, ''),
    name: hostedZone.name.toLowerCase().replace(/\.$/, ''),
  };
  if (!/^[A-Z0-9]{1,32}$/.test(hostedZone.id)) {
    throw new ContextError(`Hosted zone id "${hostedZone.id}" is malformed`);
  }
  const host = `${code}.${baseDomain}`;
  if (host !== hostedZone.name && !host.endsWith(`.${hostedZone.name}`)) {
    throw new ContextError(`Hosted zone ${hostedZone.name} cannot hold *.${host}`);
  }
  return hostedZone;
}

/** Rotation: retired keys of this region. A map names the region; a flat list is split by ARN. */
function previousKeyArnsOf(node: Node, code: RegionCode, awsRegion: string): string[] {
  const raw = parsed(node.tryGetContext('previousSigningKeyArns'));
  let previous: string[];
  if (isMap(raw)) {
    previous = stringList(`previousSigningKeyArns.${code}`, raw[code]);
    for (const arn of previous) {
      const region = KEY_ARN.exec(arn)?.[1];
      if (region !== awsRegion) {
        throw new ContextError(`previousSigningKeyArns.${code}: ${arn} is not a KMS key ARN in ${awsRegion}`);
      }
    }
  } else {
    const all = stringList('previousSigningKeyArns', raw);
    for (const arn of all) {
      if (!KEY_ARN.test(arn)) throw new ContextError(`previousSigningKeyArns: ${arn} is not a KMS key ARN`);
    }
    previous = all.filter((arn) => KEY_ARN.exec(arn)?.[1] === awsRegion);
  }
  return [...new Set(previous)];
}

/** Key generation: a number for every region, or a map by region code (default 1). */
function keyGenerationOf(node: Node, code: RegionCode): number {
  const gen = parsed(node.tryGetContext('signingKeyGeneration'));
  const mineGen = isMap(gen) ? gen[code] : gen;
  const signingKeyGeneration = mineGen === undefined ? 1 : Number(mineGen);
  if (!Number.isInteger(signingKeyGeneration) || signingKeyGeneration < 1) {
    throw new ContextError(`Context signingKeyGeneration for ${code} must be a positive integer`);
  }
  return signingKeyGeneration;
}

/** Mail: one From address for every region, or one per region. */
function mailFromOf(node: Node, code: RegionCode): string | undefined {
  const mail = parsed(node.tryGetContext('mailFrom'));
  const mineMail = isMap(mail) ? mail[code] : mail;
  if (mineMail !== undefined && typeof mineMail !== 'string') {
    throw new ContextError('Context mailFrom must be a string, or an object of strings by region code');
  }
  return mineMail?.trim() || undefined;
}

/** SMS: an origination identity ARN per region (numbers are bought per country and region). */
function smsOriginationOf(node: Node, code: RegionCode, awsRegion: string): string | undefined {
  const value = parsed(node.tryGetContext('smsOriginationIdentity'));
  const mine = isMap(value) ? value[code] : value;
  if (mine === undefined) return undefined;
  const arn = typeof mine === 'string' ? mine.trim() : '';
  const m = ORIGINATION_ARN.exec(arn);
  if (!m) {
    throw new ContextError(
      `Context smsOriginationIdentity for ${code} must be the ARN of an End User Messaging SMS phone number, pool or sender id`,
    );
  }
  if (m[1] !== awsRegion)
    throw new ContextError(`Context smsOriginationIdentity for ${code} is in ${m[1]}, not ${awsRegion}`);
  return arn;
}

function signerOf(node: Node): { signer: 'tenant' | 'kms'; publishRegionKey: boolean } {
  const signer = String(parsed(node.tryGetContext('signer')) ?? 'tenant');
  if (signer !== 'tenant' && signer !== 'kms')
    throw new ContextError(`Context signer must be tenant or kms, not ${signer}`);
  const publish = parsed(node.tryGetContext('publishRegionKey'));
  return { signer, publishRegionKey: !(publish === false || publish === 'false') };
}

/**
 * `sourceMaps`: off by default, because `--enable-source-maps` makes every cold start slower (Node
 * parses the map at load) and the map makes every bundle larger; turn it on to debug a deployment.
 */
export function sourceMapsOf(node: Node): boolean {
  const value = parsed(node.tryGetContext('sourceMaps'));
  if (value === undefined || value === false || value === 'false') return false;
  if (value === true || value === 'true') return true;
  throw new ContextError(`Context sourceMaps must be true or false, not ${String(value)}`);
}

/**
 * `domain=none`: the operator knows a region has no custom domain. Without it, a region without a
 * hosted zone is refused, because the stack would deploy and serve nobody: the default
 * `execute-api` endpoint is disabled and could not carry a tenant's host anyway.
 */
function requireDomain(node: Node, code: RegionCode, baseDomain: string, zone: RegionSettings['hostedZone']) {
  const domain = parsed(node.tryGetContext('domain'));
  if (domain !== undefined && domain !== 'none') {
    throw new ContextError(
      `Context domain takes only the value none (no custom domain on purpose), not ${String(domain)}`,
    );
  }
  if (zone || domain === 'none') return;
  throw new ContextError(
    `Region ${code} has no hosted zone, so no tenant on *.${code}.${baseDomain} could be reached. ` +
      `Set context hostedZoneId and hostedZoneName (one zone for every region) or hostedZones.${code}, ` +
      'or pass --context domain=none to synthesize without a custom domain on purpose.',
  );
}

/** Reads and validates the settings of one region from the app's (or a stack's) context. */
export function regionSettings(node: Node, code: RegionCode): RegionSettings {
  const awsRegion = REGIONS[code].awsRegion;
  const baseDomain = baseDomainOf(node);
  const hostedZone = hostedZoneOf(node, code, baseDomain);
  requireDomain(node, code, baseDomain, hostedZone);
  return {
    code,
    awsRegion,
    baseDomain,
    hostedZone,
    previousSigningKeyArns: previousKeyArnsOf(node, code, awsRegion),
    signingKeyGeneration: keyGenerationOf(node, code),
    mailFrom: mailFromOf(node, code),
    smsOriginationIdentity: smsOriginationOf(node, code, awsRegion),
    ...signerOf(node),
  };
}
