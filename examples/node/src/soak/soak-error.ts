/**
 * The perturbation suite's typed errors: a manifest that cannot be run (unreadable, not JSON, the wrong shape, out of
 * bounds) is told apart from a run that could not be carried out (a node that would not come back up). An invariant
 * that does not hold is not an error: it is a finding, reported in the soak report.
 */
import { CodedError } from '@constellation/interface'
export enum SoakErrorCode {
  /** The manifest file cannot be read, or is larger than `MAX_MANIFEST_BYTES`. */
  MANIFEST_UNREADABLE = 'MANIFEST_UNREADABLE',
  /** The manifest is not JSON. */
  MANIFEST_NOT_JSON = 'MANIFEST_NOT_JSON',
  /** The manifest does not have the manifest's shape, names a field it does not know, or a value is out of bounds. */
  MANIFEST_INVALID = 'MANIFEST_INVALID',
  /** The run itself failed: the network never certified, or a node did not come back after a perturbation. */
  RUN_FAILED = 'RUN_FAILED',
}

export class SoakError extends CodedError<SoakErrorCode> {
  override readonly name = 'SoakError'
}

export function isManifestError(error: unknown): error is SoakError {
  return error instanceof SoakError && error.code !== SoakErrorCode.RUN_FAILED
}
