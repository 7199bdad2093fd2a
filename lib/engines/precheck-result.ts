/** Precheck results in the seed's shape, shared by every engine's precheck.ts. */
import type { CheckResult, CheckResultValue, PrecheckItem, PrecheckScope } from './engine.js';

/** A result builder over an engine's catalogue: the item's group comes from the catalogue. */
export function resultsOf(catalogue: readonly PrecheckItem[]) {
  const byItem = new Map(catalogue.map((p) => [p.item, p]));
  return (item: string, value: CheckResultValue, reason?: string, advice?: string, objects?: string[]): CheckResult => ({
    item,
    group: byItem.get(item)!.group,
    result: value,
    ...(reason ? { failed_reason: reason } : {}),
    ...(advice ? { advice } : {}),
    ...(objects && objects.length ? { objects } : {}),
  });
}

/** Items marked `incremental` apply to tasks with incremental sync only. */
export const incremental = (scope: PrecheckScope) => scope.taskType !== 'FULL_TRANS';

/** hasForeignKeyOnUnselectedTable: an alarm listing the foreign keys whose referenced table is not selected. */
export function danglingForeignKeys(result: ReturnType<typeof resultsOf>, dangling: string[], advice: string): CheckResult {
  return dangling.length === 0
    ? result('hasForeignKeyOnUnselectedTable', 'passed')
    : result('hasForeignKeyOnUnselectedTable', 'alarm', `${dangling.length} foreign key(s) of selected tables reference tables that are not selected.`, advice, dangling);
}
