import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * ESLint rule: no import circles between the project's own files, type-only imports included
 * (a type-only circle still means two files cannot be read, changed or moved apart). Follows
 * relative `import … from` and `export … from` of .ts files, as written on disk.
 */
const FROM = /^\s*(?:import|export)\b[^'"]*?\bfrom\s*['"](\.{1,2}\/[^'"]+)['"]/gm;
const SIDE_EFFECT = /^\s*import\s*['"](\.{1,2}\/[^'"]+)['"]/gm;

const cache = new Map();

function resolve(fromFile, spec) {
  const base = path.resolve(path.dirname(fromFile), spec);
  for (const candidate of [base.replace(/\.js$/, '.ts'), base, `${base}.ts`, path.join(base, 'index.ts')]) {
    if (candidate.endsWith('.ts') && existsSync(candidate)) return candidate;
  }
  return undefined;
}

function importsOf(file) {
  let out = cache.get(file);
  if (out) return out;
  const text = readFileSync(file, 'utf8');
  out = [];
  for (const re of [FROM, SIDE_EFFECT]) {
    for (const m of text.matchAll(re)) {
      const target = resolve(file, m[1]);
      if (target && !target.endsWith('.test.ts')) out.push(target);
    }
  }
  cache.set(file, out);
  return out;
}

/** A path of imports from `start` back to `goal`, or undefined. */
function pathBack(start, goal) {
  const seen = new Set();
  const stack = [[start, [start]]];
  while (stack.length > 0) {
    const [file, trail] = stack.pop();
    if (file === goal) return trail;
    if (seen.has(file)) continue;
    seen.add(file);
    for (const next of importsOf(file)) stack.push([next, [...trail, next]]);
  }
  return undefined;
}

export const noImportCycle = {
  meta: { type: 'problem', docs: { description: 'disallow import circles, type-only ones included' }, schema: [] },
  create(context) {
    const file = context.filename;
    // Lint sees the file as it is now; forget what was read of it before (watch mode, --fix).
    cache.delete(file);
    const check = (node) => {
      const spec = node.source?.value;
      if (typeof spec !== 'string' || !spec.startsWith('.')) return;
      const target = resolve(file, spec);
      if (!target) return;
      const trail = pathBack(target, file);
      if (!trail) return;
      const cwd = context.cwd ?? process.cwd();
      context.report({
        node,
        message: `Import circle: ${[file, ...trail].map((f) => path.relative(cwd, f)).join(' → ')}`,
      });
    };
    return { ImportDeclaration: check, ExportNamedDeclaration: check, ExportAllDeclaration: check };
  },
};

export default { rules: { 'no-import-cycle': noImportCycle } };
