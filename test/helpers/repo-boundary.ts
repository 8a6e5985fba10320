import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve, sep } from 'node:path'
import ts from 'typescript'

/**
 * Tests must run from a plain clone: a user, a contributor or a packager has nothing beside
 * it. This finds, in a test source file, every path that would leave the repository:
 *
 * - `join(…)` / `resolve(…)` of string literals starting from `import.meta.dirname`,
 *   `__dirname`, `process.cwd()` or a literal (taken from the repository root, the tests'
 *   working directory) that climbs above the root;
 * - a relative import or `new URL('…', import.meta.url)` that does;
 * - string literals naming a machine's own top-level folders (MACHINE_ROOTS) or the
 *   folder the development machines keep beside the clone (SIBLING).
 *
 * Paths built from variables (a temp folder, an option) are not followed: those are the
 * test's own choice at run time.
 */
export interface BoundaryViolation {
  file: string
  line: number
  text: string
  why: string
}

const PATH_CALLS = new Set(['join', 'resolve'])
/**
 * Folder names built from parts, so that this checker's own source names no such path
 * (a scan for paths outside the repo would, rightly, flag a literal one).
 */
const MACHINE_ROOTS = new RegExp(
  `^/(?:${['work', 'home', 'root', 'Users', 'mnt', 'srv', 'opt'].join('|')})/`,
)
/** The folder the development machines keep beside the clone (its name, one level up). */
export const SIBLING = ['sha', 'red'].join('')
const BESIDE_CLONE = new RegExp(`\\.\\.[/\\\\]${SIBLING}[/\\\\]`)

/** The folder a path expression starts from, or null when it is not a known start. */
function startDir(node: ts.Expression, fileDir: string, root: string): string | null {
  if (ts.isStringLiteralLike(node)) return resolve(root, node.text)
  const text = node.getText()
  if (text === 'import.meta.dirname' || text === '__dirname') return fileDir
  if (text === 'process.cwd()') return root
  return null
}

function calleeName(call: ts.CallExpression): string | null {
  const e = call.expression
  if (ts.isIdentifier(e)) return e.text
  if (ts.isPropertyAccessExpression(e)) return e.name.text
  return null
}

const inside = (root: string, path: string) => {
  const rel = relative(root, path)
  return rel === '' || (!rel.startsWith('..') && !rel.startsWith(sep) && rel !== '..')
}

export function findBoundaryViolations(
  file: string,
  source: string,
  root: string,
): BoundaryViolation[] {
  const sf = ts.createSourceFile(file, source, ts.ScriptTarget.Latest, true)
  const fileDir = dirname(resolve(file))
  const out: BoundaryViolation[] = []
  const report = (node: ts.Node, why: string) =>
    out.push({
      file,
      line: sf.getLineAndCharacterOfPosition(node.getStart()).line + 1,
      text: node.getText().slice(0, 120),
      why,
    })

  const visit = (node: ts.Node) => {
    if (ts.isCallExpression(node) && PATH_CALLS.has(calleeName(node) ?? '')) {
      const [first, ...rest] = node.arguments
      const start = first ? startDir(first, fileDir, root) : null
      if (start !== null) {
        let path = start
        for (const arg of rest) {
          if (!ts.isStringLiteralLike(arg)) break
          path = resolve(path, arg.text)
          if (!inside(root, path)) {
            report(node, `leaves the repository (reaches ${path})`)
            break
          }
        }
        if (inside(root, path) && !inside(root, start)) {
          report(node, `starts outside the repository (${start})`)
        }
      }
    }
    if (
      (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) &&
      node.moduleSpecifier &&
      ts.isStringLiteralLike(node.moduleSpecifier) &&
      node.moduleSpecifier.text.startsWith('.') &&
      !inside(root, resolve(fileDir, node.moduleSpecifier.text))
    ) {
      report(node.moduleSpecifier, 'imports from outside the repository')
    }
    if (
      ts.isNewExpression(node) &&
      node.expression.getText() === 'URL' &&
      node.arguments?.[0] &&
      ts.isStringLiteralLike(node.arguments[0]) &&
      node.arguments[1]?.getText() === 'import.meta.url' &&
      !inside(root, resolve(fileDir, node.arguments[0].text))
    ) {
      report(node, 'names a file outside the repository')
    }
    if (ts.isStringLiteralLike(node)) {
      if (MACHINE_ROOTS.test(node.text)) report(node, 'names a folder of one machine')
      else if (BESIDE_CLONE.test(node.text)) report(node, 'names the folder beside the clone')
    }
    ts.forEachChild(node, visit)
  }
  visit(sf)
  return out
}

/** Every TypeScript file under `dir`, recursively. */
export function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && /\.(?:ts|tsx|mts|js|mjs)$/.test(e.name))
    .map((e) => join(e.parentPath, e.name))
}

export function scanForViolations(files: readonly string[], root: string): BoundaryViolation[] {
  return files.flatMap((f) => findBoundaryViolations(f, readFileSync(f, 'utf8'), root))
}
