// SPDX-License-Identifier: MIT
// kr-ledger-schema: the ordered schema migrations (never edit a released step; append a new one).
#include "kr-ledger-private.h"

// Version 1: people, cards, lots and the append-only journal.
static const char migration_1[] =
    "CREATE TABLE schema_version ("
    "  version INTEGER PRIMARY KEY,"
    "  description TEXT NOT NULL,"
    "  applied_at INTEGER NOT NULL"
    ");"
    "CREATE TABLE customer ("
    "  id INTEGER PRIMARY KEY,"
    "  external_id TEXT UNIQUE,"
    "  name TEXT,"
    "  birthday TEXT,"
    "  registered_at INTEGER NOT NULL,"
    "  anonymous INTEGER NOT NULL DEFAULT 0 CHECK (anonymous IN (0, 1)),"
    "  merged_into INTEGER REFERENCES customer(id),"
    "  balance INTEGER NOT NULL DEFAULT 0,"
    "  debt INTEGER NOT NULL DEFAULT 0 CHECK (debt >= 0)"
    ");"
    "CREATE INDEX customer_merged ON customer(merged_into) WHERE merged_into IS NOT NULL;"
    // Segment memberships: until NULL = no end; a member while at < until.
    "CREATE TABLE customer_segment ("
    "  customer_id INTEGER NOT NULL REFERENCES customer(id),"
    "  segment_id TEXT NOT NULL CHECK (length(segment_id) BETWEEN 1 AND 64),"
    "  joined_at INTEGER NOT NULL,"
    "  until INTEGER NULL CHECK (until IS NULL OR until > joined_at),"
    "  PRIMARY KEY (customer_id, segment_id)"
    ") WITHOUT ROWID;"
    "CREATE INDEX customer_segment_joined ON customer_segment(segment_id, customer_id, joined_at);"
    "CREATE INDEX customer_segment_until ON customer_segment(until, customer_id, segment_id)"
    "  WHERE until IS NOT NULL;"
    "CREATE TABLE customer_attr ("
    "  customer_id INTEGER NOT NULL REFERENCES customer(id),"
    "  key TEXT NOT NULL,"
    "  value TEXT NOT NULL,"
    "  PRIMARY KEY (customer_id, key)"
    ") WITHOUT ROWID;"
    "CREATE TABLE identity ("
    "  kind TEXT NOT NULL CHECK (kind IN ('phone', 'email')),"
    "  value TEXT NOT NULL,"
    "  customer_id INTEGER NOT NULL REFERENCES customer(id),"
    "  PRIMARY KEY (kind, value)"
    ");"
    "CREATE INDEX identity_customer ON identity(customer_id);"
    "CREATE TABLE card ("
    "  number TEXT PRIMARY KEY,"
    "  batch_id TEXT NOT NULL,"
    "  state TEXT NOT NULL CHECK (state IN ('issued', 'active', 'blocked')),"
    "  customer_id INTEGER REFERENCES customer(id),"
    "  issued_at INTEGER NOT NULL,"
    "  activated_at INTEGER,"
    "  blocked_at INTEGER,"
    "  CHECK (state = 'issued' OR customer_id IS NOT NULL OR state = 'blocked')"
    ");"
    "CREATE INDEX card_customer ON card(customer_id);"
    "CREATE TABLE lot ("
    "  id INTEGER PRIMARY KEY,"
    "  customer_id INTEGER NOT NULL REFERENCES customer(id),"
    "  source TEXT NOT NULL CHECK (source IN ('accrual', 'promotion', 'birthday',"
    "    'registration', 'referral', 'event', 'manual', 'import', 'challenge', 'return')),"
    "  amount INTEGER NOT NULL CHECK (amount > 0),"
    "  remaining INTEGER NOT NULL CHECK (remaining >= 0 AND remaining <= amount),"
    "  earned_at INTEGER NOT NULL,"
    "  spendable_from INTEGER NOT NULL,"
    "  expires_at INTEGER,"
    "  op_id TEXT NOT NULL"
    ");"
    "CREATE INDEX lot_open ON lot(customer_id, expires_at) WHERE remaining > 0;"
    "CREATE INDEX lot_expiry ON lot(expires_at) WHERE remaining > 0 AND expires_at IS NOT NULL;"
    "CREATE INDEX lot_op ON lot(op_id, customer_id);"
    "CREATE TABLE journal ("
    "  id INTEGER PRIMARY KEY,"
    "  op_id TEXT NOT NULL,"
    "  kind TEXT NOT NULL CHECK (kind IN ('create', 'import', 'spend', 'expire', 'return-in',"
    "    'reverse', 'debt-add', 'debt-pay', 'merge-out', 'merge-in')),"
    "  lot_id INTEGER REFERENCES lot(id),"
    "  customer_id INTEGER NOT NULL REFERENCES customer(id),"
    "  delta INTEGER NOT NULL,"
    "  at INTEGER NOT NULL,"
    "  ref_op TEXT,"
    "  peer_customer_id INTEGER REFERENCES customer(id)"
    ");"
    "CREATE INDEX journal_lot ON journal(lot_id);"
    "CREATE INDEX journal_customer ON journal(customer_id, id);"
    "CREATE INDEX journal_ref ON journal(ref_op) WHERE ref_op IS NOT NULL;"
    "CREATE TRIGGER journal_no_update BEFORE UPDATE ON journal"
    "  BEGIN SELECT RAISE(ABORT, 'journal is append-only'); END;"
    "CREATE TRIGGER journal_no_delete BEFORE DELETE ON journal"
    "  BEGIN SELECT RAISE(ABORT, 'journal is append-only'); END;";

// Version 2: receipts, counters, tiers, programs, outbox, promo codes, certificates.
static const char migration_2[] =
    "CREATE TABLE receipt ("
    "  id TEXT PRIMARY KEY,"
    "  body_hash TEXT NOT NULL,"
    "  customer_id INTEGER REFERENCES customer(id),"
    "  state TEXT NOT NULL CHECK (state IN ('confirmed', 'cancelled', 'partially_returned',"
    "    'returned')),"
    "  result TEXT NOT NULL,"
    "  created_at INTEGER NOT NULL,"
    "  updated_at INTEGER NOT NULL"
    ");"
    "CREATE INDEX receipt_customer ON receipt(customer_id);"
    "CREATE TABLE receipt_line_return ("
    "  receipt_id TEXT NOT NULL REFERENCES receipt(id),"
    "  line_id TEXT NOT NULL,"
    "  op_id TEXT NOT NULL,"
    "  at INTEGER NOT NULL,"
    "  PRIMARY KEY (receipt_id, line_id)"
    ") WITHOUT ROWID;"
    "CREATE TABLE counter ("
    "  customer_id INTEGER NOT NULL REFERENCES customer(id),"
    "  metric TEXT NOT NULL,"
    "  period TEXT NOT NULL,"
    "  value INTEGER NOT NULL,"
    "  PRIMARY KEY (customer_id, metric, period)"
    ") WITHOUT ROWID;"
    "CREATE TABLE tier_history ("
    "  id INTEGER PRIMARY KEY,"
    "  customer_id INTEGER NOT NULL REFERENCES customer(id),"
    "  ladder_id TEXT NOT NULL,"
    "  tier_id TEXT NOT NULL,"
    "  from_at INTEGER NOT NULL,"
    "  reason TEXT NOT NULL CHECK (reason IN ('computed', 'manual')),"
    "  floor_until INTEGER"
    ");"
    "CREATE INDEX tier_customer ON tier_history(customer_id, ladder_id, from_at);"
    "CREATE TABLE program_version ("
    "  program_id TEXT NOT NULL,"
    "  version INTEGER NOT NULL,"
    "  hash TEXT NOT NULL,"
    "  xml TEXT NOT NULL,"
    "  lua TEXT NOT NULL,"
    "  deployed_at INTEGER NOT NULL,"
    "  deployed_by TEXT NOT NULL,"
    "  PRIMARY KEY (program_id, version)"
    ");"
    "CREATE TABLE outbox ("
    "  id INTEGER PRIMARY KEY,"
    "  key TEXT NOT NULL UNIQUE,"
    "  customer_id INTEGER NOT NULL REFERENCES customer(id),"
    "  kind TEXT NOT NULL,"
    "  channels TEXT NOT NULL,"
    "  payload TEXT NOT NULL,"
    "  due_at INTEGER NOT NULL,"
    "  state TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'failed', 'cancelled')),"
    "  attempts INTEGER NOT NULL DEFAULT 0,"
    "  created_at INTEGER NOT NULL,"
    "  updated_at INTEGER NOT NULL"
    ");"
    "CREATE INDEX outbox_due ON outbox(due_at, id) WHERE state = 'pending';"
    "CREATE TABLE promo_code ("
    "  code TEXT PRIMARY KEY COLLATE NOCASE,"
    "  batch_id TEXT NOT NULL,"
    "  max_uses INTEGER NOT NULL CHECK (max_uses >= 0),"
    "  max_per_customer INTEGER NOT NULL CHECK (max_per_customer >= 0),"
    "  valid_until INTEGER,"
    "  uses INTEGER NOT NULL DEFAULT 0"
    ");"
    "CREATE TABLE promo_use ("
    "  code TEXT NOT NULL COLLATE NOCASE REFERENCES promo_code(code),"
    "  op_id TEXT NOT NULL,"
    "  customer_id INTEGER REFERENCES customer(id),"
    "  at INTEGER NOT NULL,"
    "  PRIMARY KEY (code, op_id)"
    ");"
    "CREATE INDEX promo_use_customer ON promo_use(code, customer_id);"
    "CREATE TABLE certificate ("
    "  number TEXT PRIMARY KEY,"
    "  face_value INTEGER NOT NULL CHECK (face_value > 0),"
    "  remaining INTEGER NOT NULL CHECK (remaining >= 0 AND remaining <= face_value),"
    "  valid_until INTEGER,"
    "  issued_at INTEGER NOT NULL"
    ");"
    "CREATE TABLE certificate_use ("
    "  number TEXT NOT NULL REFERENCES certificate(number),"
    "  op_id TEXT NOT NULL,"
    "  amount INTEGER NOT NULL CHECK (amount > 0),"
    "  at INTEGER NOT NULL,"
    "  PRIMARY KEY (number, op_id)"
    ");";

// Version 3: a promo code issued to one customer (a birthday code) names its owner; only the
// owner's receipts may use it.
static const char migration_3[] =
    "ALTER TABLE promo_code ADD COLUMN owner_id INTEGER REFERENCES customer(id);"
    "CREATE INDEX promo_code_owner ON promo_code(owner_id) WHERE owner_id IS NOT NULL;";

// Version 4: gift certificates as sold goods: the kind and terms they were sold on, the receipt
// line that sold them, voids (a sale returned), and give-backs (money of returned lines going
// back to the certificate that paid for them).
static const char migration_4[] =
    "ALTER TABLE certificate ADD COLUMN kind TEXT;"
    "ALTER TABLE certificate ADD COLUMN partial INTEGER NOT NULL DEFAULT 1;"
    "ALTER TABLE certificate ADD COLUMN sold_receipt TEXT;"
    "ALTER TABLE certificate ADD COLUMN sold_line TEXT;"
    "ALTER TABLE certificate ADD COLUMN voided_at INTEGER;"
    "ALTER TABLE certificate ADD COLUMN void_op TEXT;"
    "CREATE INDEX certificate_sold ON certificate(sold_receipt, sold_line);"
    "CREATE TABLE certificate_back ("
    "  number TEXT NOT NULL REFERENCES certificate(number),"
    "  op_id TEXT NOT NULL,"
    "  receipt TEXT NOT NULL,"
    "  amount INTEGER NOT NULL CHECK (amount > 0),"
    "  at INTEGER NOT NULL,"
    "  PRIMARY KEY (number, op_id)"
    ");";

// Version 5: unknown card numbers tried per source (kr-ledger-guard.h): misses in the window
// that started at window_start; lookups from the source are refused while at < locked_until.
static const char migration_5[] =
    "CREATE TABLE card_guard ("
    "  source TEXT PRIMARY KEY,"
    "  window_start INTEGER NOT NULL,"
    "  misses INTEGER NOT NULL CHECK (misses >= 0),"
    "  locked_until INTEGER"
    ");";

// Version 6: what reports read (kr-ops-reports.c): one row per sale receipt with where it was
// sold (store, region, channel as the receipt named them) and its totals, its lines (SKU,
// quantity, amounts), the promotions that applied on it and, compactly, those that did not. Written by confirm in the same
// transaction; receipts confirmed before this version are filled in from their stored answers
// (their store, region and channel were not kept: NULL).
static const char migration_6[] =
    // A rowid table (rows are appended in confirm order); the receipt id is its unique key.
    "CREATE TABLE sale ("
    "  id INTEGER PRIMARY KEY,"
    "  receipt_id TEXT NOT NULL UNIQUE REFERENCES receipt(id),"
    "  at INTEGER NOT NULL,"
    "  customer_id INTEGER REFERENCES customer(id),"
    "  store TEXT,"
    "  region TEXT,"
    "  channel TEXT,"
    "  original INTEGER NOT NULL CHECK (original >= 0),"
    "  final INTEGER NOT NULL CHECK (final >= 0),"
    "  points_spent INTEGER NOT NULL CHECK (points_spent >= 0),"
    "  points_earned INTEGER NOT NULL CHECK (points_earned >= 0),"
    // The promotions that did not apply, compactly: a JSON array of [promotion, reason, detail]
    // with detail the failing condition's text or the winning promotion (NULL: none).
    "  rejected TEXT"
    ");"
    "CREATE INDEX sale_at ON sale(at);"
    "CREATE INDEX sale_customer ON sale(customer_id, at) WHERE customer_id IS NOT NULL;"
    "CREATE TABLE sale_line ("
    "  receipt_id TEXT NOT NULL REFERENCES sale(receipt_id),"
    "  line_id TEXT NOT NULL,"
    "  sku TEXT NOT NULL,"
    "  qty INTEGER NOT NULL CHECK (qty >= 1),"
    "  original INTEGER NOT NULL CHECK (original >= 0),"
    "  final INTEGER NOT NULL CHECK (final >= 0),"
    "  PRIMARY KEY (receipt_id, line_id)"
    ") WITHOUT ROWID;"
    "CREATE TABLE sale_promotion ("
    "  receipt_id TEXT NOT NULL REFERENCES sale(receipt_id),"
    "  promotion TEXT NOT NULL,"
    "  discount INTEGER NOT NULL CHECK (discount >= 0),"
    "  points INTEGER NOT NULL CHECK (points >= 0),"
    "  PRIMARY KEY (receipt_id, promotion)"
    ") WITHOUT ROWID;"
    // Backfill: a sale's answer has "totals" and "lines"; return and cancel records do not.
    // Money in an answer is a string with the currency's decimals, so dropping the point gives
    // minor units exactly.
    "INSERT INTO sale(receipt_id, at, customer_id, original, final, points_spent, points_earned,"
    "    rejected)"
    "  SELECT id, created_at, nullif(customer_id, 0),"
    "    CAST(replace(json_extract(result, '$.totals.original'), '.', '') AS INTEGER),"
    "    CAST(replace(json_extract(result, '$.totals.final'), '.', '') AS INTEGER),"
    "    coalesce(json_extract(result, '$.points.spent'), 0),"
    "    coalesce(json_extract(result, '$.points.earned'), 0),"
    "    (SELECT nullif(json_group_array(json_array(json_extract(x.value, '$.promotion'),"
    "      json_extract(x.value, '$.reason'), coalesce(json_extract(x.value, '$.condition'),"
    "      json_extract(x.value, '$.by')))), '[]') FROM json_each(result, '$.rejected') x)"
    "  FROM receipt WHERE json_valid(result) AND json_type(result, '$.totals') = 'object'"
    "    AND json_type(result, '$.lines') = 'array';"
    "INSERT INTO sale_line(receipt_id, line_id, sku, qty, original, final)"
    "  SELECT r.id, json_extract(l.value, '$.id'), json_extract(l.value, '$.sku'),"
    "    json_extract(l.value, '$.qty'),"
    "    CAST(replace(json_extract(l.value, '$.original'), '.', '') AS INTEGER),"
    "    CAST(replace(json_extract(l.value, '$.final'), '.', '') AS INTEGER)"
    "  FROM sale s JOIN receipt r ON r.id = s.receipt_id, json_each(r.result, '$.lines') l;"
    "INSERT INTO sale_promotion(receipt_id, promotion, discount, points)"
    "  SELECT r.id, json_extract(a.value, '$.promotion'),"
    "    CAST(replace(json_extract(a.value, '$.discount'), '.', '') AS INTEGER),"
    "    coalesce(json_extract(a.value, '$.points'), 0)"
    "  FROM sale s JOIN receipt r ON r.id = s.receipt_id, json_each(r.result, '$.applied') a;";

// Version 7: partial returns. One row per return operation and receipt line with the units that
// came back and their money (the line's `final` share by its fiscal sub-lines) and `original`
// share: what returns read to know how many units are left, and what reports subtract per SKU.
// receipt_line_return keeps meaning "the line is wholly back" (its last unit's operation).
// Lines returned before this version came back whole: one row each, from their sale line.
static const char migration_7[] =
    "CREATE TABLE receipt_line_part ("
    "  receipt_id TEXT NOT NULL REFERENCES receipt(id),"
    "  line_id TEXT NOT NULL,"
    "  op_id TEXT NOT NULL,"
    "  qty INTEGER NOT NULL CHECK (qty >= 1),"
    "  original INTEGER NOT NULL CHECK (original >= 0),"
    "  final INTEGER NOT NULL CHECK (final >= 0),"
    "  at INTEGER NOT NULL,"
    "  PRIMARY KEY (receipt_id, line_id, op_id)"
    ") WITHOUT ROWID;"
    "INSERT INTO receipt_line_part(receipt_id, line_id, op_id, qty, original, final, at)"
    "  SELECT x.receipt_id, x.line_id, x.op_id, l.qty, l.original, l.final, x.at"
    "  FROM receipt_line_return x JOIN sale_line l ON l.receipt_id = x.receipt_id"
    "  AND l.line_id = x.line_id;";

// Version 8: trigger chains (kr-ledger-chains.c). One row per customer and chain: the local day
// the chain started, the `after-days` of the last step done (-1: none yet) and whether it runs,
// is done or was left (its exit condition held). chain_step is the journal of steps done, one
// row per customer, chain and step: the key that makes every step happen once.
static const char migration_8[] =
    "CREATE TABLE chain_position ("
    "  customer_id INTEGER NOT NULL REFERENCES customer(id),"
    "  chain_id TEXT NOT NULL CHECK (length(chain_id) BETWEEN 1 AND 64),"
    "  entered_day INTEGER NOT NULL,"
    "  done_days INTEGER NOT NULL CHECK (done_days >= -1),"
    "  state TEXT NOT NULL CHECK (state IN ('running', 'done', 'left')),"
    "  updated_at INTEGER NOT NULL,"
    "  PRIMARY KEY (customer_id, chain_id)"
    ") WITHOUT ROWID;"
    "CREATE TABLE chain_step ("
    "  customer_id INTEGER NOT NULL REFERENCES customer(id),"
    "  chain_id TEXT NOT NULL,"
    "  step_id TEXT NOT NULL CHECK (length(step_id) BETWEEN 1 AND 64),"
    "  at INTEGER NOT NULL,"
    "  points INTEGER NOT NULL CHECK (points >= 0),"
    "  code TEXT,"
    "  PRIMARY KEY (customer_id, chain_id, step_id)"
    ") WITHOUT ROWID;";

// Version 9: the operation that issued a card or generated a single-use code, so that a repeat
// of `cards issue` / `codes generate` with the same id answers the same numbers (NULL: issued
// before version 9, or a code that no operation id generated: triggers, public codes).
static const char migration_9[] =
    "ALTER TABLE card ADD COLUMN op_id TEXT;"
    "CREATE INDEX card_op ON card(op_id) WHERE op_id IS NOT NULL;"
    "ALTER TABLE promo_code ADD COLUMN op_id TEXT;"
    "CREATE INDEX promo_code_op ON promo_code(op_id) WHERE op_id IS NOT NULL;";

const kr_ledger_migration kr_ledger_migrations[] = {
    {1, "customers, cards, lots, journal", migration_1},
    {2, "receipts, counters, tiers, programs, outbox, promo codes, certificates", migration_2},
    {3, "promo code owners", migration_3},
    {4, "certificate sales, voids and give-backs", migration_4},
    {5, "attempt counters for unknown card numbers", migration_5},
    {6, "sales, their lines and promotions, for reports", migration_6},
    {7, "units of receipt lines returned, return by return", migration_7},
    {8, "trigger chains: positions and steps done", migration_8},
    {9, "the operation that issued each card and generated each code", migration_9},
};

const size_t kr_ledger_n_migrations = sizeof kr_ledger_migrations / sizeof kr_ledger_migrations[0];
