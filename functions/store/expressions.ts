import type { Item } from './store.js';

/** `SET #a = :a, #b = :b` for the given attributes (undefined values become REMOVE). */
export function setExpression(set: Item) {
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = {};
  const sets: string[] = [];
  const removes: string[] = [];
  Object.entries(set).forEach(([name, value], i) => {
    if (name === 'pk' || name === 'sk') return;
    names[`#a${i}`] = name;
    if (value === undefined) {
      removes.push(`#a${i}`);
    } else {
      values[`:v${i}`] = value;
      sets.push(`#a${i} = :v${i}`);
    }
  });
  const expression = [
    sets.length ? `SET ${sets.join(', ')}` : '',
    removes.length ? `REMOVE ${removes.join(', ')}` : '',
  ]
    .filter(Boolean)
    .join(' ');
  return { names, values, expression };
}
