/// <reference types="node" />
/**
 * The modules of src/ import each other without cycles (type-only imports
 * count too: they tie the modules' designs together just the same).
 */

import * as fs from 'fs';
import * as path from 'path';
import * as ts from 'typescript';

const SRC = path.resolve(__dirname, '..');

/** Every module of src/, tests left out. */
function modules(dir: string = SRC): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap(entry => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      return entry.name === '__tests__' ? [] : modules(full);
    }
    return /\.tsx?$/.test(entry.name) && !entry.name.endsWith('.d.ts')
      ? [full]
      : [];
  });
}

/** The modules of src/ that `file` imports. */
function imports(file: string): string[] {
  const info = ts.preProcessFile(fs.readFileSync(file, 'utf8'), true, true);
  return info.importedFiles
    .map(ref => ref.fileName)
    .filter(name => name.startsWith('.'))
    .map(name => {
      const base = path.resolve(path.dirname(file), name);
      const found = ['.ts', '.tsx', '/index.ts'].find(ext =>
        fs.existsSync(base + ext)
      );
      if (found === undefined) {
        throw new Error(`${file} imports ${name}, which is not there`);
      }
      return base + found;
    });
}

/** Each import cycle, as the modules along it. */
function cycles(graph: Map<string, string[]>): string[][] {
  const found: string[][] = [];
  const done = new Set<string>();
  const stack: string[] = [];
  const visit = (file: string) => {
    const at = stack.indexOf(file);
    if (at !== -1) {
      found.push([...stack.slice(at), file]);
      return;
    }
    if (done.has(file)) {
      return;
    }
    stack.push(file);
    for (const next of graph.get(file) ?? []) {
      visit(next);
    }
    stack.pop();
    done.add(file);
  };
  [...graph.keys()].forEach(visit);
  return found;
}

describe('imports', () => {
  it('form no cycle', () => {
    const graph = new Map(modules().map(file => [file, imports(file)]));
    expect(graph.size).toBeGreaterThan(20);
    const named = cycles(graph).map(cycle =>
      cycle.map(file => path.relative(SRC, file)).join(' -> ')
    );
    expect(named).toEqual([]);
  });

  it('a cycle is found', () => {
    const graph = new Map([
      ['a', ['b']],
      ['b', ['c']],
      ['c', ['a']],
      ['d', ['a']]
    ]);
    expect(cycles(graph)).toEqual([['a', 'b', 'c', 'a']]);
  });

  it('tokens.ts holds no import of this package', () => {
    expect(imports(path.join(SRC, 'tokens.ts'))).toEqual([]);
  });
});
