// The compose types, generated from Rust (see `$lib/bindings`).
export type {
  CheckInput,
  Draft,
  DraftInput,
  DraftMedia,
  DraftMediaInput,
  DraftTarget,
  LengthUnit,
  MediaInfo,
  MediaProblem,
  MediaProblemCode,
  TargetCheck,
  TargetOutcome,
  TargetState,
  TextCheck,
} from "$lib/bindings";
