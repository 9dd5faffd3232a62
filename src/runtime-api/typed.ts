/**
 * `show stat` and `show info` in HAProxy 2.6's typed and JSON formats. A typed line is
 * `F.2.0.4.scur.1:MGP:u32:0` (object type, proxy id, object id, field position, field name,
 * process number, then tags, value type and value; `show info` lines start at the position). JSON
 * is the same, one object per field: an array of objects per `show stat` row inside one array, a
 * flat array for `show info`. Empty fields are left out, as HAProxy does.
 */
import { STAT_COLUMNS, type StatRow } from './stat.ts';
import type { ObjType, Tags, ValueType } from './typed.types.ts';
import { INFO_FIELDS, Natures, OBJ_TYPE_OF_ROW, ObjTypes, Origins, OWN_INFO_FIELDS, OWN_INFO_FIRST_POS, STAT_FIELDS, Scopes } from './typed.types.ts';

interface TypedField {
  readonly pos: number;
  readonly name: string;
  readonly tags: Tags;
  readonly type: ValueType;
  readonly value: string | number;
}

interface StatObject {
  readonly obj: ObjType;
  readonly proxyId: number;
  readonly id: number;
  readonly fields: readonly TypedField[];
}

/** The fields of each row that have a value, with their typed-output metadata. */
function statObjects(rows: readonly StatRow[]): StatObject[] {
  return rows.map((r) => {
    const obj = OBJ_TYPE_OF_ROW[Number(r.type)];
    if (!obj) throw new Error(`show stat row ${r.pxname}/${r.svname} has no object type`);
    const fields: TypedField[] = [];
    let pos = 0;
    for (const col of STAT_COLUMNS) {
      if (col === '-') continue; // the separator before the stats modules' fields has no position
      const value = r[col];
      const at = pos++;
      if (value === undefined || value === '') continue;
      const meta = STAT_FIELDS[col];
      const tags = meta?.[1][obj];
      if (!meta || !tags) throw new Error(`show stat: no typed metadata for '${col}' on a ${ObjTypes[obj]} (${r.pxname}/${r.svname})`);
      fields.push({ pos: at, name: col, tags, type: meta[0], value });
    }
    return { obj, proxyId: Number(r.iid), id: Number(r.sid), fields };
  });
}

const typedValue = (f: TypedField): string => `${f.tags}:${f.type}:${f.value}`;

function jsonField(f: TypedField): object {
  const o = f.tags[0] as keyof typeof Origins;
  const n = f.tags[1] as keyof typeof Natures;
  const s = f.tags[2] as keyof typeof Scopes;
  return {
    field: { pos: f.pos, name: f.name },
    processNum: 1,
    tags: { origin: Origins[o], nature: Natures[n], scope: Scopes[s] },
    value: { type: f.type, value: f.type === 'str' ? String(f.value) : Number(f.value) },
  };
}

export function renderStatTyped(rows: readonly StatRow[]): string {
  let out = '';
  for (const o of statObjects(rows)) {
    for (const f of o.fields) out += `${o.obj}.${o.proxyId}.${o.id}.${f.pos}.${f.name}.1:${typedValue(f)}\n`;
  }
  return out;
}

export function renderStatJson(rows: readonly StatRow[]): string {
  const objects = statObjects(rows).map((o) =>
    o.fields.map((f) => ({ objType: ObjTypes[o.obj], proxyId: o.proxyId, id: o.id, ...jsonField(f) })),
  );
  return `${JSON.stringify(objects)}\n`;
}

/** `show info`'s fields with their metadata: HAProxy's at their positions, switchyard's after. */
function infoFields(lines: ReadonlyArray<readonly [string, string | number]>): TypedField[] {
  const haproxy = new Map(INFO_FIELDS.map((f) => [f[0], f]));
  let own = OWN_INFO_FIRST_POS;
  return lines.map(([name, value]) => {
    const h = haproxy.get(name);
    if (h) return { pos: h[1], name, tags: h[2], type: h[3], value };
    const meta = OWN_INFO_FIELDS[name] ?? OWN_INFO_FIELDS[/^Worker_\d+_(.+)$/.exec(name)?.[1] ?? ''];
    if (!meta) throw new Error(`show info: no typed metadata for '${name}'`);
    return { pos: own++, name, tags: meta[0], type: meta[1], value };
  });
}

export function renderInfoTyped(lines: ReadonlyArray<readonly [string, string | number]>): string {
  return infoFields(lines)
    .map((f) => `${f.pos}.${f.name}.1:${typedValue(f)}\n`)
    .join('');
}

export function renderInfoJson(lines: ReadonlyArray<readonly [string, string | number]>): string {
  return `${JSON.stringify(infoFields(lines).map(jsonField))}\n`;
}
