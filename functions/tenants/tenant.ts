import * as z from '../zod.js';
import type { RegionCode } from '../regions.js';
import type { TenantSettingsFields } from './settings.js';

/** A slug is one DNS label: `[a-z0-9](-?[a-z0-9])*`, 2 to 63 characters. */
export const SLUG_PATTERN = /^[a-z0-9](?:-?[a-z0-9])*$/;
export const RESERVED_SLUGS = new Set([
  'www',
  'api',
  'admin',
  'auth',
  'login',
  'oidc',
  'health',
  'static',
  'cdn',
]);

export const slugSchema = z.string().check(
  z.minLength(2, 'a slug has at least 2 characters'),
  z.maxLength(63, 'a slug has at most 63 characters'),
  z.regex(
    SLUG_PATTERN,
    'a slug is lowercase letters, digits and single hyphens, starting and ending with a letter or digit',
  ),
  z.refine((s) => !RESERVED_SLUGS.has(s), 'this slug is reserved'),
);

export type Outcome = 'ALLOW' | 'CHALLENGE' | 'BLOCK';

export interface Tenant extends TenantSettingsFields {
  id: string;
  slug: string;
  region: RegionCode;
  name: string;
  /** SHA-256 of the tenant's API secret (also the built-in client's secret). */
  secretHash: string;
  /** Outcome of an action the tenant never configured. */
  defaultOutcome: Outcome;
  /** The hosted pages' colour (`#rrggbb`); made accessible for text by functions/hosted/views/brand.ts. */
  brandColor?: string;
  createdAt: string;
  secretRotatedAt?: string;
}

export const brandColorSchema = z.string().check(z.regex(/^#[0-9a-fA-F]{6}$/, 'a colour is #rrggbb'));
