// The type a Grafana dashboard JSON file is checked against: @grafana/schema's Dashboard,
// read as JSON. check-dashboard writes the dashboard file into
//
//   const dashboard = (<the file's JSON>) satisfies DashboardJson;
//
// and runs `tsc --noEmit --strict` on it: a misspelt or misplaced key on a typed object, a
// field of the wrong type (a string where a number goes), a missing required field (a
// panel's `type`, a row's `collapsed`) or an unknown numeric enum value fails the check.
//
// The one change to Dashboard: JSON holds an enum's value, never the TypeScript enum member,
// and TypeScript does not accept the string "absolute" where the string enum ThresholdsMode
// is expected. Json<T> turns every string enum into the union of its values
// ("absolute" | "percentage"); numbers, literals and everything else stay as they are.
import type { Dashboard } from '@grafana/schema';

type Json<T> = T extends string
  ? `${T}`
  : T extends ReadonlyArray<infer U>
    ? Array<Json<U>>
    : T extends object
      ? { [K in keyof T]: Json<T[K]> }
      : T;

export type DashboardJson = Json<Dashboard>;
