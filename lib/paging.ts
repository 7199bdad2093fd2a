/** Filtering, sorting and offset/limit paging of in-memory lists (per-project lists are small). */

export interface Page<T> {
  total: number;
  items: T[];
}

export function page<T>(items: T[], offset: number, limit: number | undefined): Page<T> {
  return { total: items.length, items: limit === undefined ? items.slice(offset) : items.slice(offset, offset + limit) };
}

export function sortBy<T>(items: T[], key: (t: T) => string | number, dir: 'asc' | 'desc'): T[] {
  const sign = dir === 'asc' ? 1 : -1;
  return [...items].sort((a, b) => {
    const x = key(a);
    const y = key(b);
    return x < y ? -sign : x > y ? sign : 0;
  });
}

export const containsIgnoreCase = (haystack: string | undefined, needle: string) => (haystack ?? '').toLowerCase().includes(needle.toLowerCase());
