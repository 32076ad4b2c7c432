/**
 * What `driftwatch init` proposes for a model, from a profile of its training data: each column's type as
 * `drift` infers it (numeric when every value is a number), and the columns that should not be features,
 * each with its reason. Pure, so every rule is tested on its own.
 */

import { DEFAULT_MAX_CATEGORIES } from '../../lambdas/core/drift/options.ts';
import type { FeatureProfile, TableProfile } from '../../lambdas/core/drift/profile.ts';
import type { FeatureType } from '../../lambdas/core/drift/types.ts';

/** The columns the user named: the label, the model's score, the segment column. */
export interface InitRoles {
  label?: string | undefined;
  score?: string | undefined;
  segment?: string | undefined;
}

export interface Exclusion {
  column: string;
  reason: string;
}

export interface ModelProposal {
  features: Record<string, FeatureType>;
  exclusions: Exclusion[];
}

/** Fewer rows than this prove nothing about a column being an identifier. */
export const MIN_ROWS_FOR_ID = 20;
const ID_NAME = /(^|[_\-\s.])(id|uuid|guid|key)$|^(id|uuid|guid)$|[a-z](Id|ID|Uuid|Key)$/;

/**
 * The model's features and exclusions. `profile` must have been built with the label and score excluded
 * and no segment column, so every other column is among its features.
 */
export function proposeModel(profile: TableProfile, roles: InitRoles): ModelProposal {
  const features: Record<string, FeatureType> = {};
  const exclusions: Exclusion[] = [];
  if (roles.label) exclusions.push({ column: roles.label, reason: 'the label (--label)' });
  if (roles.score) exclusions.push({ column: roles.score, reason: "the model's score (--score)" });
  for (const column of profile.features) {
    if (column === roles.segment || column === roles.label || column === roles.score) continue;
    const feature = profile.whole.get(column);
    const type: FeatureType = feature === undefined || feature.textCount > 0 ? 'categorical' : 'numeric';
    const reason = feature === undefined ? 'no values' : exclusionReason(column, feature, type);
    if (reason) exclusions.push({ column, reason });
    else features[column] = type;
  }
  return { features, exclusions };
}

/** Why `column` should not be a feature, or undefined when it should. */
export function exclusionReason(
  column: string,
  feature: FeatureProfile,
  type: FeatureType,
): string | undefined {
  const rows = feature.present + feature.missing;
  if (feature.present === 0) return `constant: every value is missing (${rows} rows)`;
  const distinct = feature.categories?.size;
  if (distinct === 1) {
    const [value] = feature.categories!.keys();
    return `constant: every value is ${JSON.stringify(value)}`;
  }
  if (type === 'numeric' && feature.min === feature.max) return `constant: every value is ${feature.min}`;
  if (distinct === undefined) return undefined;
  const allDistinct = distinct === feature.present && feature.present >= MIN_ROWS_FOR_ID;
  if (type === 'categorical') {
    if (allDistinct) return `id-like: each of its ${feature.present} values is different`;
    if (distinct > DEFAULT_MAX_CATEGORIES)
      return `id-like: ${distinct} distinct values, more than a categorical feature may have (${DEFAULT_MAX_CATEGORIES})`;
    return undefined;
  }
  // A numeric column is an identifier when its whole numbers are all different and either its name says so
  // or they run without a gap (a row number); prices and amounts can be all different too.
  if (!allDistinct || !feature.sample.every(Number.isInteger)) return undefined;
  if (ID_NAME.test(column))
    return `id-like: named like an identifier, each of its ${feature.present} whole numbers different`;
  if (feature.max - feature.min + 1 === feature.present)
    return `id-like: the whole numbers ${feature.min} to ${feature.max}, each once (a row number)`;
  return undefined;
}
