/**
 * The checkpoint writer: a worker thread with its own connection to the project, so
 * encoding (XOR + deflate) and the SQLite write happen beside training, not in its way.
 */
import { parentPort, workerData } from 'node:worker_threads'
import { Store } from '../../../store'
import type { WriteRequest, WriterReply } from './protocol'

const port = parentPort
if (!port) throw new Error('The checkpoint writer runs as a worker thread of a training job.')
const { dbPath, nativeBinding } = workerData as { dbPath: string; nativeBinding?: string }
const store = Store.open(dbPath, nativeBinding ? { nativeBinding } : {})
const reply = (m: WriterReply) => port.postMessage(m)

port.on('message', (req: WriteRequest) => {
  const started = performance.now()
  try {
    const info = store.checkpoints.write({
      runId: req.runId,
      step: req.step,
      reason: req.reason,
      state: req.state,
      tensors: new Map(req.tensors.map((t) => [t.name, { shape: t.shape, values: t.values }])),
      trainLoss: req.trainLoss,
      valLoss: req.valLoss,
      createdAt: new Date().toISOString(),
      fullEvery: req.fullEvery,
    })
    const pruned = store.checkpoints.prune(req.runId, req.keep)
    reply({
      type: 'written',
      id: req.id,
      checkpointId: info.id,
      kind: info.kind,
      rawBytes: info.rawBytes,
      storedBytes: info.storedBytes,
      pruned,
      ms: performance.now() - started,
    })
  } catch (err) {
    reply({ type: 'error', id: req.id, message: err instanceof Error ? err.message : String(err) })
  }
})
port.on('close', () => store.close())
reply({ type: 'ready' })
