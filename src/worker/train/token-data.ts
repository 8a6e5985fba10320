import type { Store } from '../../store'
import { UserError } from '../../shared/errors'
import type { TokenData } from './data'

/** A run's tokens, read from its token set in the project into memory. */
export function loadTokenData(store: Store, tokenSetId: number, vocabSize: number): TokenData {
  const set = store.tokenSets.get(tokenSetId)
  if (!set || set.state !== 'ready') {
    throw new UserError(
      'not_found',
      `The run's encoded dataset (token set ${tokenSetId}) is missing; encode the dataset again.`,
    )
  }
  const train = store.tokenSets.read(tokenSetId, 'train')
  const val = store.tokenSets.read(tokenSetId, 'val')
  // Typed views the sampler reads directly; uint32 sets become int32 (ids < 2^31).
  const view = (a: Uint16Array | Uint32Array) =>
    a instanceof Uint16Array ? a : new Int32Array(a.buffer, a.byteOffset, a.length)
  return { train: view(train), val: view(val), vocabSize }
}
