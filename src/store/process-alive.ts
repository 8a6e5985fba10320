/**
 * Whether the process with this id is running: rows that record an owner process (jobs,
 * imports, cleaning runs, training runs) use it to tell a crash's orphans from live work.
 * EPERM means it exists but belongs to someone else: alive.
 */
export function isProcessAlive(pid: number): boolean {
  if (pid === process.pid) return true
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}
