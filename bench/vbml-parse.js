// bench/vbml-parse.js: the baseline of bench/vesta. Reads NDJSON records
// as vesta-send --codes does ({"vbml": V} or {"input": TEXT}) and writes
// each board as one line of JSON, with @vestaboard/vbml (vbml.parse and
// vbml.classic), in node: the same work, Vestaboard's own code.
const path = require('path');
const fs = require('fs');
const dir = process.env.VBML_DIR || path.join(__dirname, '../build/vbml');
const { vbml } = require(path.join(dir, 'node_modules/@vestaboard/vbml'));
const lines = fs.readFileSync(0, 'utf8').split('\n');
const out = [];
for (const line of lines) {
  if (!line) continue;
  const rec = JSON.parse(line);
  out.push(JSON.stringify(rec.vbml ? vbml.parse(rec.vbml) : vbml.classic(rec.input)));
}
fs.writeSync(1, out.join('\n') + '\n');
