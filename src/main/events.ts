import type { EventEnvelope, EventMap, Topic } from '../shared/events'

type Listener = (event: EventEnvelope) => void

/** In-process pub/sub that both transports relay to their clients. */
export class EventBus {
  private readonly listeners = new Set<Listener>()

  publish<T extends Topic>(topic: T, payload: EventMap[T]): void {
    const event = { topic, payload } as EventEnvelope
    for (const listener of this.listeners) {
      try {
        listener(event)
      } catch (err) {
        // A broken client connection must not stop delivery to the others.
        console.error(`event listener failed on ${topic}:`, err)
      }
    }
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }
}
