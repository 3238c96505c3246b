/**
 * The regions this product runs in. A tenant lives in exactly one of them (data residency):
 * its hostname names the region, and only that region's deployment serves it.
 */
export const REGIONS = {
  us: { awsRegion: 'us-west-2', place: 'US (Oregon)' },
  au: { awsRegion: 'ap-southeast-2', place: 'AU (Sydney)' },
  eu: { awsRegion: 'eu-west-1', place: 'EU (Dublin)' },
} as const;

export type RegionCode = keyof typeof REGIONS;

export const REGION_CODES = Object.keys(REGIONS) as RegionCode[];

export function isRegionCode(value: string): value is RegionCode {
  return Object.hasOwn(REGIONS, value);
}
