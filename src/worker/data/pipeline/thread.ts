/**
 * A worker thread of the clean job: runs the CPU-bound rules, fingerprints and scoring
 * for the batches the job sends it, and posts the results back.
 */
import { parentPort, workerData } from 'node:worker_threads'
import type { LogisticModel } from '../quality/logistic'
import { processBatch, scoreTexts } from './process'
import type { FromThread, ThreadData, ToThread } from './protocol'

const { config } = workerData as ThreadData
let model: LogisticModel | null = null

parentPort!.on('message', (message: ToThread) => {
  let reply: FromThread
  try {
    if (message.type === 'model') {
      model = message.weights ? { weights: message.weights, bias: message.bias } : null
      return
    }
    if (message.type === 'process')
      reply = {
        type: 'processed',
        seq: message.seq,
        docs: processBatch(message.docs, config, model, message.features),
      }
    else
      reply = {
        type: 'scored',
        seq: message.seq,
        scores: model ? scoreTexts(message.docs, model) : [],
      }
  } catch (err) {
    reply = {
      type: 'error',
      seq: 'seq' in message ? message.seq : -1,
      message: (err as Error).stack ?? String(err),
    }
  }
  parentPort!.postMessage(reply)
})
