import type { z } from 'zod'

/**
 * One API method: a zod schema for its params (validated at the boundary) and the
 * type of its result. The result type is a phantom: it exists only for the compiler.
 */
export interface MethodSpec<P extends z.ZodType = z.ZodType, R = unknown> {
  readonly params: P
  readonly result?: R
}

/** `method<Result>()(paramsSchema)`: curried so the result type can be named explicitly. */
export const method =
  <R>() =>
  <P extends z.ZodType>(params: P): MethodSpec<P, R> => ({ params })

export type MethodGroup = Record<string, MethodSpec>

export type ParamsIn<S> = S extends MethodSpec<infer P, unknown> ? z.input<P> : never
export type ParamsOut<S> = S extends MethodSpec<infer P, unknown> ? z.output<P> : never
export type ResultType<S> = S extends MethodSpec<z.ZodType, infer R> ? R : never
