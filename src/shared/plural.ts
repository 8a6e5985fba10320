/**
 * "1 document", "2,048 documents": a count with its noun in the right number, the count
 * written by `format` (the CLI prints plain digits, the app groups thousands).
 */
export function countOf(
  n: number,
  singular: string,
  plural = `${singular}s`,
  format: (n: number) => string = String,
): string {
  return `${format(n)} ${n === 1 ? singular : plural}`
}
