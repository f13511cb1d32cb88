/* One table of the hub's report (GET /api/insight: tables, each with name, title, columns and rows). */

export function tableNamed(data, name) {
  var tables = Array.isArray(data.tables) ? data.tables : [];
  for (var i = 0; i < tables.length; i += 1) {
    if (tables[i] && tables[i].name === name) {
      return tables[i];
    }
  }
  return { name: name, title: name, columns: [], rows: [] };
}
