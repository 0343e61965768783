/** Time as an injected dependency: the `Clock` every package shares, from @constellation/interface. */
export { type Clock, sleep, systemClock, type TimerHandle } from '@constellation/interface'
