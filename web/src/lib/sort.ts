// A list's sort as the API spells it: `field` ascending, `-field` descending (web/CONTRACT.md, section 4).
// Kept in the URL as `?sort=-createdAt` so a reload, a shared link or "back" shows the same order.

export interface Sort<F extends string> {
  field: F;
  desc: boolean;
}

/** The sort in `value` (e.g. a URL parameter) when its field is one of `fields`, else `fallback`. */
export function parseSort<F extends string>(value: string | null | undefined, fields: readonly F[], fallback: NoInfer<`${F}` | `-${F}`>): Sort<F> {
  const read = (v: string) => {
    const desc = v.startsWith("-");
    const field = (desc ? v.slice(1) : v) as F;
    return fields.includes(field) ? { field, desc } : null;
  };
  return (value ? read(value) : null) ?? read(fallback)!;
}

/** The API's spelling of a sort. */
export function sortParam<F extends string>(sort: Sort<F>): `${F}` | `-${F}` {
  return (sort.desc ? `-${sort.field}` : sort.field) as `${F}` | `-${F}`;
}

/** What a click on `field`'s header asks for: the same field flips; another starts ascending. */
export function toggleSort<F extends string>(current: Sort<F>, field: F): Sort<F> {
  return current.field === field ? { field, desc: !current.desc } : { field, desc: false };
}
