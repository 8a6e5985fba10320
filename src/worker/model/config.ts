/** Model configuration and the sizes derived from it: defined in src/shared (the run form needs them too). */
export * from '../../shared/config/model'
