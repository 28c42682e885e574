/**
 * The names the package build may shorten (tsup.config.ts, esbuild `mangleProps`): members declared `private`
 * in src/ whose name is used for nothing else there. A name is kept as written when it is also a public
 * member, a property of an interface or object literal, a property read on anything but `this` (a DOM, Node
 * or rxjs object may have a property of that name) or on `this` in a class that extends another, or any string literal (`'name' in x`, `x['name']`).
 * esbuild renames every property of a matching name in the whole bundle, so only such names are safe.
 * test/package/mangledNames.spec.ts checks the rules; the whole suite runs against src and the package
 * specs against the build.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import ts from 'typescript';

/** Whether `n` lies in a class that extends another (whose members `this.x` may reach: rxjs' `Subscription`, `Error`, …). */
function inSubclass(n) {
  for (let p = n.parent; p; p = p.parent) if (ts.isClassLike(p)) return !!p.heritageClauses?.some((h) => h.token === ts.SyntaxKind.ExtendsKeyword);
  return false;
}

/** Private-only member names in `root`'s src/ (sorted). */
export function privateOnlyNames(root) {
  const files = execFileSync('git', ['ls-files', 'src'], { cwd: root, encoding: 'utf8' }).split('\n').filter((f) => f.endsWith('.ts'));
  const priv = new Set();
  const other = new Set();
  for (const f of files) {
    const visit = (n) => {
      const named = n.name;
      if (named && ts.isIdentifier(named)) {
        if (ts.isPropertyDeclaration(n) || ts.isMethodDeclaration(n) || ts.isGetAccessor(n) || ts.isSetAccessor(n) || ts.isParameter(n)) {
          if (n.modifiers?.some((m) => m.kind === ts.SyntaxKind.PrivateKeyword)) priv.add(named.text);
          else if (!ts.isParameter(n)) other.add(named.text);
        } else if (ts.isPropertySignature(n) || ts.isPropertyAssignment(n) || ts.isMethodSignature(n) || ts.isBindingElement(n)) other.add(named.text);
      }
      if (ts.isBindingElement(n) && n.propertyName && ts.isIdentifier(n.propertyName)) other.add(n.propertyName.text);
      if (ts.isShorthandPropertyAssignment(n)) other.add(n.name.text);
      if (ts.isPropertyAccessExpression(n) && (n.expression.kind !== ts.SyntaxKind.ThisKeyword || inSubclass(n))) other.add(n.name.text);
      if (ts.isStringLiteralLike(n)) other.add(n.text);
      ts.forEachChild(n, visit);
    };
    visit(ts.createSourceFile(f, readFileSync(resolve(root, f), 'utf8'), ts.ScriptTarget.ES2022, true));
  }
  return [...priv].filter((n) => !other.has(n) && n.length > 2).sort();
}

/** The `mangleProps` pattern for {@link privateOnlyNames}. */
export const privateNamesPattern = (root) => new RegExp(`^(${privateOnlyNames(root).map(escaped).join('|')})$`);

/** A name as a regular expression matches it: `digest$` must not match `digest` (node:crypto's Hash has one). */
const escaped = (name) => name.replace(/[$]/g, '\\$');
