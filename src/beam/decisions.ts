import type { ReceiverEnvironment } from '../bundle/hello.js';
import type { SecretSummary } from '../session/secrets/scan.js';
import type { Destination } from '../session/destination.js';
import type { SessionManifest } from '../session/manifest.js';
import type { InstallReview } from '../session/review.js';
import type { TransformReport } from '../session/transform/index.js';
import type { WorkPlan } from '../session/work/plan.js';
import type { WorkDescription, WorkSummary } from '../session/work/description.js';

/**
 * The seam between a beam and the people on either side. The choreography (sender.ts,
 * receiver.ts) calls `tell` whenever something happened that a person may want to see, and one
 * of the questions whenever only a person can decide. The command line answers with prompts and
 * printing; tests and embedding tools answer with scripts. A question may take as long as a
 * person needs: the other side is kept waiting, bounded by the beam's own timeouts.
 */

/** News on the sender's side, in the order it can happen. */
export type SenderNews =
  | { readonly type: 'scanning' }
  | {
      readonly type: 'prepared';
      readonly sessionId: string;
      readonly sessionName?: string;
      readonly files: number;
      readonly bytes: number;
      /** Entries of the session folder that are not part of a Copilot session: never sent. */
      readonly leftOut: readonly string[];
    }
  /**
   * The checkout's work in progress, and whether it goes with the session; `carried` is
   * undefined when `carryWork` is about to be asked (told again once it was answered).
   */
  | { readonly type: 'work'; readonly summary: WorkSummary; readonly carried: boolean | undefined }
  /** The checkout's work cannot travel (nobody asked for it): the session goes without it. */
  | { readonly type: 'work-not-carried'; readonly reason: string }
  | { readonly type: 'secrets'; readonly summary: SecretSummary }
  | { readonly type: 'connecting' }
  /** A receiver's key confirmation failed: a typo, or someone guessing; the code burns at 0 left. */
  | { readonly type: 'wrong-code'; readonly attemptsLeft: number }
  | { readonly type: 'paired' }
  /** Who the receiver is, and why its machine may be shared with others (empty when not). */
  | { readonly type: 'receiver'; readonly receiver: ReceiverEnvironment; readonly risks: readonly string[] }
  | { readonly type: 'offered' }
  | { readonly type: 'progress'; readonly done: number; readonly total: number }
  /** Everything arrived and was verified; the receiver's person looks at it before it is installed. */
  | { readonly type: 'reviewing' };

/** The code to show the receiving person, once it can be used. */
export interface CodeToShow {
  readonly code: string;
  readonly expiresInMs: number;
}

export interface SenderDecisions {
  tell(news: SenderNews): void;
  /**
   * The code works from now on. The receiver may already be starting; the beam goes on when
   * this returns (a prompt still open on the screen may be answered first).
   */
  showCode(code: CodeToShow): Promise<void> | void;
  /** The scan found secrets and redaction is off: may they travel as they are? */
  sendUnredacted(secrets: SecretSummary): Promise<boolean>;
  /**
   * Asked after a "no" to `sendUnredacted`: send the session with each secret replaced by a
   * marker instead? (The session is scanned again, redacting.) No stops the send.
   */
  sendRedactedInstead(secrets: SecretSummary): Promise<boolean>;
  /**
   * The session's checkout has work in progress (`summary`) and the request did not say whether
   * to carry it: carry it with the session?
   */
  carryWork(summary: WorkSummary): Promise<boolean>;
  /**
   * Both screens show `phrase`: does the other one show the same? Never answer this unseen.
   * `signal` aborts when the other side leaves while the question is open: withdraw it then.
   */
  phraseMatches(phrase: string, signal?: AbortSignal): Promise<boolean>;
  /** May the session go to this receiver? `risks` says why its machine may be shared. */
  sendTo(receiver: ReceiverEnvironment, risks: readonly string[], signal?: AbortSignal): Promise<boolean>;
}

/** News on the receiver's side, in the order it can happen. */
export type ReceiverNews =
  | { readonly type: 'connecting' }
  | { readonly type: 'looking'; readonly nameplate: string }
  /** A key confirmation with a peer on this nameplate failed: a typo, or a guessing peer. */
  | { readonly type: 'wrong-code'; readonly attemptsLeft: number }
  | { readonly type: 'paired' }
  /** The receiver has described itself; the sender's person decides now. */
  | { readonly type: 'introduced' }
  | { readonly type: 'offer'; readonly manifest: SessionManifest }
  | { readonly type: 'warning'; readonly message: string }
  | { readonly type: 'receiving'; readonly bytes: number }
  | { readonly type: 'progress'; readonly done: number; readonly total: number }
  | { readonly type: 'received'; readonly bytes: number; readonly seconds: number }
  /** The staged session was made safe to resume here: paths, unfinished calls, permissions. */
  | { readonly type: 'transformed'; readonly destination: Destination; readonly report: TransformReport }
  /** The session carries its checkout's work: where it will land (before anything is received). */
  | { readonly type: 'work-plan'; readonly plan: WorkPlan; readonly work: WorkDescription }
  /** The copy here came from this very offer and is unchanged since: nothing is transferred. */
  | { readonly type: 'already-here'; readonly sessionId: string; readonly receivedAt: string };

export interface ReceiverDecisions {
  tell(news: ReceiverNews): void;
  /**
   * Both screens show `phrase`: does the other one show the same? Never answer this unseen.
   * In every question, `signal` aborts when the sender leaves while it is open: withdraw it then.
   */
  phraseMatches(phrase: string, signal?: AbortSignal): Promise<boolean>;
  /** Install this session here? It was checked as hostile input and shown with the 'offer' news. */
  acceptOffer(manifest: SessionManifest, signal?: AbortSignal): Promise<boolean>;
  /**
   * The second look: the content arrived, was verified and made safe to resume here. Install it?
   * `review` says what was active in it and what was neutralised or left out.
   */
  installReviewed(review: InstallReview, signal?: AbortSignal): Promise<boolean>;
  /**
   * A session with this id is already installed here: replace it with the offered one (the old
   * copy is kept as a backup)? Yes also accepts the offer. Not asked with `force`.
   */
  replaceExisting(sessionId: string, signal?: AbortSignal): Promise<boolean>;
}
