/**
 * TypeScript mirror of the wire contract in docs/protocol.md
 * (Python side: jupyter_nbchat/models.py; the record: jupyter_nbchat/record.py).
 */

import type * as nbformat from '@jupyterlab/nbformat';

/** Where a turn's code runs. */
export type Executor = 'kernel' | 'e2b';

/** The administrator's limits (`NbChat` traits; docs/deploy.md); no secret. */
export interface IPolicy {
  /** Model ids a question may use; empty: any. */
  allowed_models: string[];
  /** Where cells may run; empty: both. */
  allowed_executors: Executor[];
  /** Every generated cell waits for Run or Skip. */
  force_review: boolean;
  /** Most tokens one question may spend; 0: no cap. */
  max_tokens_per_turn: number;
  /** A sentence per limit in force: `models`, `executors`, `review`, `tokens`. */
  reasons: Partial<
    Record<'models' | 'executors' | 'review' | 'tokens', string>
  >;
}

/** Answer of `GET nbchat/status`; never contains a secret. */
export interface IStatus {
  version: string;
  model: string;
  executor: Executor;
  /** An E2B key is configured, so a chat may choose the sandbox. */
  e2b_available?: boolean;
  has_api_key: boolean;
  api_key_help: string;
  /** Absent from servers older than admin policies: no limits. */
  policy?: IPolicy;
}

/** Who inserts the turn's cells into the notebook. */
export type WriteMode = 'browser' | 'server';

/** A notebook cell as the browser has it (nbformat v4 cell JSON). */
export interface INotebookCell {
  id?: string;
  cell_type: 'code' | 'markdown' | 'raw';
  source: string | string[];
  outputs?: nbformat.IOutput[];
  execution_count?: number | null;
  metadata?: Partial<nbformat.ICellMetadata>;
}

/** Body of `POST nbchat/turns`. */
export interface ITurnRequest {
  /** Relative to the server root, ends in `.ipynb`. */
  notebook_path: string;
  /** 1..20000 characters. */
  question: string;
  /** Optional model override (settings registry). */
  model?: string;
  /** Default "browser". */
  write?: WriteMode;
  /** The notebook's cells as the browser has them now; absent: the saved file. */
  cells?: INotebookCell[];
  /** 1..10, from the settings registry; absent: the server's default. */
  max_fix_attempts?: number;
  /** Attached data files, relative to the server root. */
  attachments?: string[];
  /** How much of the attached files Claude is told. */
  context_level?: ContextLevel;
  /** Per-chat executor choice; absent: the server's default. */
  executor?: Executor;
  /** The chat's sandbox from the notebook's metadata, to reconnect. */
  sandbox_id?: string;
  /** The sandbox's code context from the notebook's metadata, to reconnect. */
  context_id?: string;
  /** Review mode: each cell waits for the person's Run or Skip (`cell_proposed`). */
  review?: boolean;
  /** false: no question/answer cells; the conversation lives in `metadata.nbchat.turns`. */
  question_answer_cells?: boolean;
  /** Claude sees the images its cells draw; absent: the server's default (`NbChat.images_to_claude`). */
  images_to_claude?: boolean;
  /** The notebook's `metadata.nbchat` as the browser has it; the turn folds its events onto it. */
  record?: ChatRecordJSON;
  /** The cell the question is about; a `fix` replaces it. */
  focus?: ICellFocus;
}

/** What a turn about one cell does: fix it, explain it, or answer a question about it. */
export type FocusAction = 'fix' | 'explain' | 'ask';

/** The notebook cell a turn is about (any cell, the person's own too). */
export interface ICellFocus {
  cell_id: string;
  action: FocusAction;
}

/** The JSON of `metadata.nbchat` as the server sends it (read with notebook/record.ts). */
export type ChatRecordJSON = { [key: string]: unknown };

/** One attached file, as recorded in the notebook. */
export interface IAttachment {
  /** Relative to the server root. */
  path: string;
  size: number;
  sha256: string;
  summary: IFileSummary;
}

/** Token counts (and cost) of one turn or of many. */
export interface IUsageTotals {
  input_tokens: number;
  output_tokens: number;
  cache_read_input_tokens: number;
  cache_creation_input_tokens: number;
  /** Sum of the known costs; null when no turn had one. */
  cost_usd: number | null;
}

/** A chat's usage summed over its turns (each counted once, by the server). */
export interface IChatUsage extends IUsageTotals {
  turns: number;
  last_turn_id?: string;
  last_turn?: IUsageTotals;
}

/** Where the chat's cells ran last, as the server recorded it. */
export interface IExecutorState {
  executor: Executor;
  state: Record<string, unknown>;
}

/** A cell a turn put in the notebook; `sha256` of its source as the turn wrote it. */
export interface ITurnCellRecord {
  id: string;
  role: CellRole;
  sha256: string;
}

/** One turn as the server records it in `metadata.nbchat.turns`. */
export interface ITurnRecord {
  turn_id: string;
  question: string;
  /** Markdown; null when the turn ended without an answer. */
  answer: string | null;
  status: TurnStatus;
  question_answer_cells: boolean;
  /** Cells the turn put in the notebook and that were there at its end, in order. */
  cells: ITurnCellRecord[];
  /** Failed cells the fix loop replaced: the fixed cell's id and the failed code. */
  replaced: { by: string; source: string }[];
  /** Cells from before the turn that it replaced or removed (undo puts them back). */
  restore: { cell: INotebookCell; index: number }[];
  /** Review-mode proposals the person skipped. */
  skipped: { tool_use_id: string; source: string }[];
  /** Counts of the answer's numbers checked and not found in the outputs; null: unchecked. */
  numbers?: { checked: number; unverified: number } | null;
  /** What produced the answer (the `provenance` event); null or absent: not recorded. */
  provenance?: ITurnProvenance | null;
  /** The cell the turn was asked about; null or absent: none. */
  focus?: ICellFocus | null;
}

/** The model, system prompt hash, files, executor and packages of one turn. */
export interface ITurnProvenance {
  model: string;
  /** Hex sha256 of the `system` blocks sent to Claude, as canonical JSON. */
  system_prompt_sha256: string;
  files: { path: string; sha256: string }[];
  executor: Executor;
  /** Versions the executor reported; empty on a new sandbox's first turn. */
  packages: Record<string, string>;
}

/** The whole `metadata.nbchat` record, authored by the server (jupyter_nbchat/record.py). */
export interface IChatRecord {
  attachments: IAttachment[];
  /** Absent: the chat has not chosen (the settings decide). */
  context_level?: ContextLevel;
  /** The chat's own executor choice. */
  executor?: Executor;
  /** The chat's database connections, by name (`NbChat.databases`). */
  databases?: string[];
  executor_state?: IExecutorState;
  usage?: IChatUsage;
  turns: ITurnRecord[];
}

/** One change the person makes to the record (`POST nbchat/record`). */
export type RecordChange =
  | { attach: string[] }
  | { detach: string }
  | { context_level: ContextLevel }
  | { executor: Executor }
  | { databases: string[] };

/** Body of `POST nbchat/record`. */
export interface IRecordChangeRequest {
  notebook_path: string;
  /** The notebook's `metadata.nbchat` as the browser has it. */
  record: ChatRecordJSON;
  change: RecordChange;
}

/** Answer of `POST nbchat/record`. */
export interface IRecordChanged {
  /** The folded record: set it as the notebook's `metadata.nbchat`. */
  record: ChatRecordJSON;
  /** What Claude will be told about the attachments. */
  prompt: string;
}

/** Body of `POST nbchat/undo`. */
export interface IUndoRequest {
  notebook_path: string;
  turn_id: string;
  record: ChatRecordJSON;
  /** The notebook as the browser has it. */
  cells: INotebookCell[];
}

/** Answer of `POST nbchat/undo`: what to change in the notebook. */
export interface IUndoPlan {
  turn_id: string;
  /** Ids of cells the turn added that are still there. */
  remove: string[];
  /** Those of `remove` the person edited since the turn wrote them. */
  edited: string[];
  /** Cells to put back, at `index`. */
  restore: { cell: INotebookCell; index: number }[];
  /** `metadata.nbchat` without that turn (usage kept). */
  record: ChatRecordJSON;
  summary: { added: number; replaced: number; skipped: number };
}

/** Body of `POST nbchat/executor/rerun`. */
export interface IRerunRequest {
  notebook_path: string;
  codes: string[];
}

/** Answer of `POST nbchat/executor/rerun`. */
export interface IRerunResult {
  ran: number;
  failed: { index: number; ename: string; evalue: string }[];
}

/** Body of `POST nbchat/executor/warm`. */
export type IWarmRequest = Pick<
  ITurnRequest,
  | 'notebook_path'
  | 'attachments'
  | 'context_level'
  | 'executor'
  | 'sandbox_id'
  | 'context_id'
>;

/** How much of the attached files Claude is told (docs/protocol.md). */
export type ContextLevel = 'headers' | 'schema' | 'sample';

/** Kinds of data file the server recognises. */
export type FileType =
  | 'csv'
  | 'xlsx'
  | 'xls'
  | 'json'
  | 'jsonl'
  | 'parquet'
  | 'sqlite'
  | 'duckdb'
  | 'other';

/** One column at the `schema`/`sample` levels. */
export interface IColumnSchema {
  name: string;
  dtype: string;
  nulls: number;
}

/**
 * One table: a whole CSV/JSON/Parquet file, one sheet of a workbook, or one
 * table or view of a database file.
 */
export interface ITableSummary {
  /** Sheet, table or view name; null for single-table files. */
  name?: string | null;
  /** Database files: a table or a view. */
  kind?: 'table' | 'view' | null;
  columns: string[];
  column_count: number;
  /** Exact number of data rows, header excluded. */
  row_count: number;
  /** False when the rows could not be counted (row_count is 0 then). */
  counted?: boolean;
  /** Database files: each column's SQL type (null where none is declared). */
  column_types?: (string | null)[] | null;
  header_row?: number | null;
  schema_rows?: number | null;
  column_schema?: IColumnSchema[] | null;
  sample?: (string | null)[][] | null;
  notes?: string[];
}

/** What the server knows about one data file (jupyter_nbchat/datafiles/models.py). */
export interface IFileSummary {
  /** Relative to the server root, '/'-separated. */
  path: string;
  name: string;
  size: number;
  mtime_ns?: number;
  sha256: string;
  type: FileType;
  media_type?: string;
  encoding?: string | null;
  delimiter?: string | null;
  /** Workbooks: every sheet, in order. */
  sheets?: string[];
  tables?: ITableSummary[];
  /** Database files: every table, listed in `tables` or not. */
  table_count?: number | null;
  /** Database files: every view, listed or not. */
  view_count?: number | null;
  level?: ContextLevel;
  notes?: string[];
}

/** Body of `POST nbchat/files/inspect`. */
export interface IInspectRequest {
  paths: string[];
  level?: ContextLevel;
  notebook_path?: string;
}

/** Answer of `POST nbchat/files/inspect`. */
export interface IInspectResult {
  files: IFileSummary[];
  /** Exactly what Claude is told about these files. */
  prompt: string;
}

/** Answer of `PUT nbchat/files/upload`. */
export interface IUploadResult {
  file: IFileSummary;
}

/** One live variable of the chat's executor (`GET nbchat/variables`). */
export interface IVariable {
  name: string;
  type: string;
  shape?: number[];
  columns?: string[];
  column_count?: number;
  length?: number;
}

/** Answer of `GET nbchat/variables`. */
export interface IVariables {
  variables: IVariable[];
}

/** A file a cell created or changed (a `files_changed` event). */
export interface IChangedFile {
  /** Relative to the server root. */
  path: string;
  size: number;
  /** Copied into the workspace (false: see `reason`). */
  copied: boolean;
  reason?: string;
}

/** Answer of `POST nbchat/turns` (status 201). */
export interface ITurnCreated {
  turn_id: string;
}

/** How a turn ended (or that it has not yet). */
export type TurnStatus = 'running' | 'done' | 'error' | 'cancelled';

/** Status a `turn_finished` event can carry. */
export type FinishedStatus = Exclude<TurnStatus, 'running'>;

/** Answer of `GET nbchat/turns/{turn_id}`. */
export interface ITurnInfo {
  turn_id: string;
  notebook_path: string;
  question: string;
  status: TurnStatus;
  last_seq: number;
  /** The server wrote the turn's cells to disk itself: no panel followed it to the end. */
  saved_by_server?: boolean;
}

/** Answer of `GET nbchat/turns?notebook_path=P`: oldest first. */
export interface ITurnList {
  turns: ITurnInfo[];
}

/** What the person decided about a proposed cell (review mode). */
export type ReviewChoice = 'run' | 'skip';

/** Body of `POST nbchat/turns/{turn_id}/review`. */
export interface IReviewDecision {
  tool_use_id: string;
  decision: ReviewChoice;
  /** Run: the cell's source as the person left it in the notebook. */
  code?: string;
}

/** Role of a cell written by a turn. */
export type CellRole = 'question' | 'code' | 'answer';

/** Tags the server puts in `cell.metadata.nbchat`. */
export interface ICellTag {
  turn_id: string;
  role: CellRole;
  tool_use_id?: string;
  /** Question and answer cells: the text itself (the source heads it in markdown). */
  text?: string;
}

/** An nbformat v4 cell as sent in a `cell` event (always has an `id`). */
export type TurnCell = nbformat.ICell & { id: string };

/** Kinds an `error` event can carry. */
export type ErrorKind =
  | 'no_api_key'
  | 'invalid_api_key'
  | 'rate_limited'
  | 'overloaded'
  | 'api_error'
  | 'network'
  | 'execution'
  | 'data_file'
  | 'policy'
  | 'internal';

/** Fields common to every event. */
interface IEventBase {
  /** Increasing per turn (a replay may skip numbers). */
  seq: number;
  turn_id: string;
  /**
   * The whole folded `metadata.nbchat`, on the events that change it: the
   * browser sets it as is.
   */
  record?: ChatRecordJSON;
}

export interface ITurnStartedEvent extends IEventBase {
  type: 'turn_started';
  notebook_path: string;
  question: string;
  executor: Executor;
  /** false: the question and answer are kept in `metadata.nbchat.turns`, not as cells. */
  question_answer_cells?: boolean;
}

export interface ITextDeltaEvent extends IEventBase {
  type: 'text_delta';
  text: string;
}

/** What the model writes while it thinks or between tool calls (never the answer). */
export interface IThinkingDeltaEvent extends IEventBase {
  type: 'thinking_delta';
  text: string;
}

export interface ICodeDeltaEvent extends IEventBase {
  type: 'code_delta';
  tool_use_id: string;
  /** The full code written so far (a snapshot, not a diff). */
  code: string;
}

export interface ICellRunningEvent extends IEventBase {
  type: 'cell_running';
  tool_use_id: string;
  code: string;
}

/** What the turn is doing, as the server names it. */
export type ServerPhase =
  | 'thinking'
  | 'writing_code'
  | 'reviewing'
  | 'running'
  | 'fixing'
  | 'answering'
  | 'verifying';

export interface IPhaseEvent extends IEventBase {
  type: 'phase';
  phase: ServerPhase;
  /** While fixing: this attempt (1-based) … */
  attempt?: number | null;
  /** … out of at most this many. */
  max_attempts?: number | null;
}

/** A code cell starts running: insert it, mark it running. */
export interface ICellStartedEvent extends IEventBase {
  type: 'cell_started';
  /** A code cell without outputs (`execution_count` null). */
  cell: TurnCell;
  /** Id of the cell it takes the place of (a failed cell, or a proposal). */
  replaces?: string | null;
}

/** Live outputs of a running cell: the whole current list, not a delta. */
export interface ICellOutputsEvent extends IEventBase {
  type: 'cell_outputs';
  cell_id: string;
  outputs: nbformat.IOutput[];
  execution_count?: number | null;
}

/** What the turn asks Claude with, once its system prompt is built (kept in its record). */
export interface IProvenanceEvent extends IEventBase, ITurnProvenance {
  type: 'provenance';
}

/** The turn is about this notebook cell, as it was when asked (`index`: its place). */
export interface IFocusEvent extends IEventBase, ICellFocus {
  type: 'focus';
  cell: INotebookCell;
  index: number;
}

/** The chat's settings changed during the turn (`POST nbchat/record`). */
export interface IRecordEvent extends IEventBase {
  type: 'record';
  /** The settings after the change; the `record` it carries is what the panel applies. */
  change: {
    attachments?: string[];
    context_level?: ContextLevel;
    executor?: Executor;
  };
}

export interface ICellEvent extends IEventBase {
  type: 'cell';
  cell: TurnCell;
  role: CellRole;
  /** Id of an inserted (failed) cell this fixed cell takes the place of. */
  replaces?: string | null;
}

/** Review mode: an unexecuted cell waiting for the person's Run or Skip. */
export interface ICellProposedEvent extends IEventBase {
  type: 'cell_proposed';
  tool_use_id: string;
  /** Not executed yet (no outputs); always has an `id`. */
  cell: TurnCell;
  /** Id of an inserted (failed) cell this proposal takes the place of. */
  replaces?: string | null;
}

/** Review mode: the person skipped a proposed cell; remove it. */
export interface ICellSkippedEvent extends IEventBase {
  type: 'cell_skipped';
  cell_id: string;
}

/** A number of an answer the turn's outputs do not show (jupyter_nbchat/llm/numbers.py). */
export interface IUnverifiedNumber {
  /** As written in the answer, e.g. `1,306`, `1.3k`, `50 %`. */
  text: string;
  /** Code point offsets into the answer's text. */
  start: number;
  end: number;
  /** `not_in_cell`: the sentence cites `cell`, whose outputs do not show it. */
  reason: 'not_found' | 'not_in_cell';
  cell?: number | null;
  /** Which occurrence of `text` among the answer's checked numbers (0: the first). */
  occurrence?: number;
}

export interface IAnswerEvent extends IEventBase {
  type: 'answer';
  /** Markdown. */
  text: string;
  /** Numbers found in no output (or not in the cell they cite). */
  unverified?: IUnverifiedNumber[];
  /** How many numbers were checked; null or absent: not checked. */
  checked?: number | null;
}

export interface IUsageEvent extends IEventBase {
  type: 'usage';
  input_tokens: number;
  output_tokens: number;
  cache_read_input_tokens: number;
  cache_creation_input_tokens: number;
  /** Estimated from the model's list price; null when unknown. */
  cost_usd?: number | null;
}

export interface IErrorEvent extends IEventBase {
  type: 'error';
  kind: ErrorKind;
  message: string;
}

export interface IManifestEvent extends IEventBase {
  type: 'manifest';
  files: IFileSummary[];
  /** The exact text Claude was given about the files. */
  prompt: string;
  level: ContextLevel;
}

export interface IExecutorStateEvent extends IEventBase {
  type: 'executor_state';
  executor: Executor;
  /** What to remember in the notebook's metadata.nbchat (e.g. `sandbox_id`). */
  state: Record<string, unknown>;
}

export interface IFilesChangedEvent extends IEventBase {
  type: 'files_changed';
  files: IChangedFile[];
}

export interface INoticeEvent extends IEventBase {
  type: 'notice';
  text: string;
}

export interface ITurnFinishedEvent extends IEventBase {
  type: 'turn_finished';
  status: FinishedStatus;
  /** The server wrote the turn's cells to disk itself: no panel followed it to the end. */
  saved_by_server?: boolean;
}

/** Every event the server sends on `nbchat/turns/{turn_id}/events`. */
export type TurnEvent =
  | ITurnStartedEvent
  | ITextDeltaEvent
  | IThinkingDeltaEvent
  | ICodeDeltaEvent
  | ICellRunningEvent
  | IPhaseEvent
  | ICellStartedEvent
  | ICellOutputsEvent
  | ICellEvent
  | ICellProposedEvent
  | ICellSkippedEvent
  | IAnswerEvent
  | IUsageEvent
  | IErrorEvent
  | IManifestEvent
  | IExecutorStateEvent
  | IFilesChangedEvent
  | INoticeEvent
  | IRecordEvent
  | IProvenanceEvent
  | IFocusEvent
  | ITurnFinishedEvent;

/** Body of `POST nbchat/verify`: run the notebook in a fresh runtime, compare outputs. */
export interface IVerifyRequest {
  notebook_path: string;
  /** Where the fresh run happens; absent: the chat's executor, else the server's. */
  executor?: Executor;
  /** The notebook's cells as the browser has them; absent: the saved file. */
  cells?: INotebookCell[];
  /** The notebook's `metadata.nbchat` as the browser has it; absent: the saved file's. */
  record?: ChatRecordJSON;
}

/** A code cell whose fresh outputs differ from the saved ones. */
export interface IVerifyCell {
  cell_id: string | null;
  /** Its place among all the notebook's cells (0-based). */
  index: number;
  /** The saved `In [n]`. */
  execution_count: number | null;
  /** Short sentences, e.g. "stdout differs: saved '5', now '4'". */
  differences: string[];
}

/** A turn's answer checked against the fresh outputs. */
export interface IVerifyAnswer {
  turn_id: string;
  question: string;
  checked: number;
  /** The numbers, as the answer writes them, that the fresh run no longer shows. */
  missing: string[];
}

/** What a verification found. */
export interface IVerifyReport {
  executor: Executor;
  total: number;
  same: number;
  different: number;
  cells: IVerifyCell[];
  answers: IVerifyAnswer[];
  elapsed_seconds: number;
}

export type VerifyStatusName = 'running' | 'done' | 'error' | 'cancelled';

/** `GET nbchat/verify/{id}`. */
export interface IVerifyStatus {
  verify_id: string;
  notebook_path: string;
  status: VerifyStatusName;
  /** Code cells run so far, of `total`. */
  ran: number;
  total: number;
  report: IVerifyReport | null;
  /** Why it stopped (status `error`). */
  message: string | null;
}

/** A named database connection as the panel sees it: never its URL (`GET nbchat/databases`). */
export interface IDatabaseInfo {
  name: string;
  /** SQLAlchemy dialect: postgresql, sqlite, mysql … */
  dialect: string;
  description: string;
}

/** Body of `GET nbchat/databases`. */
export interface IDatabaseList {
  databases: IDatabaseInfo[];
  /** That code in the local kernel can use these connections as the person could. */
  notice: string;
}

export interface IDatabaseColumn {
  name: string;
  type: string;
  nullable: boolean;
  primary_key: boolean;
}

/** One table or view of a database: columns and exact row count, never its rows. */
export interface IDatabaseTable {
  schema_name: string | null;
  name: string;
  kind: 'table' | 'view';
  columns: IDatabaseColumn[];
  column_count: number;
  /** null: it could not be counted (see notes). */
  row_count: number | null;
  notes: string[];
}

export interface IDatabaseSummary {
  name: string;
  dialect: string;
  description: string;
  level: ContextLevel;
  /** The kernel's environment variable that holds the URL. */
  env_var: string;
  schemas: string[];
  tables: IDatabaseTable[];
  /** Tables and views past the server's limit: counted, not described. */
  more_tables: number;
  notes: string[];
}

/** Answer of `POST nbchat/databases/inspect`. */
export interface IDatabaseInspectResult {
  database: IDatabaseSummary;
  /** Exactly what Claude is told about this database. */
  prompt: string;
}
