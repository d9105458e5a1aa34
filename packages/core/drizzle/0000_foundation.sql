CREATE TABLE "audit_log" (
	"shop_id" text NOT NULL,
	"seq" bigint NOT NULL,
	"at" timestamp with time zone NOT NULL,
	"action" text NOT NULL,
	"actor_type" text NOT NULL,
	"actor_id" text NOT NULL,
	"subject_id" text,
	"details" jsonb NOT NULL,
	"prev_hash" text NOT NULL,
	"row_hash" text NOT NULL,
	CONSTRAINT "audit_log_shop_id_seq_pk" PRIMARY KEY("shop_id","seq")
);
--> statement-breakpoint
CREATE TABLE "consent_ledger" (
	"shop_id" text NOT NULL,
	"seq" bigint NOT NULL,
	"event_id" text NOT NULL,
	"subject_id" text NOT NULL,
	"purpose" text NOT NULL,
	"state" text NOT NULL,
	"level" text NOT NULL,
	"occurred_at" timestamp with time zone NOT NULL,
	"recorded_at" timestamp with time zone NOT NULL,
	"source_system" text NOT NULL,
	"source_event_id" text NOT NULL,
	"method" text NOT NULL,
	"evidence" jsonb NOT NULL,
	"evidence_enc" "bytea",
	"echo" boolean DEFAULT false NOT NULL,
	"content_hash" text NOT NULL,
	"prev_hash" text NOT NULL,
	"row_hash" text NOT NULL,
	CONSTRAINT "consent_ledger_shop_id_seq_pk" PRIMARY KEY("shop_id","seq")
);
--> statement-breakpoint
CREATE TABLE "consent_state" (
	"shop_id" text NOT NULL,
	"subject_id" text NOT NULL,
	"purpose" text NOT NULL,
	"state" text NOT NULL,
	"level" text NOT NULL,
	"since" timestamp with time zone NOT NULL,
	"decided_by" text NOT NULL,
	CONSTRAINT "consent_state_shop_id_subject_id_purpose_pk" PRIMARY KEY("shop_id","subject_id","purpose")
);
--> statement-breakpoint
CREATE TABLE "inbox" (
	"shop_id" text NOT NULL,
	"system" text NOT NULL,
	"delivery_id" text NOT NULL,
	"topic" text NOT NULL,
	"payload_enc" "bytea",
	"received_at" timestamp with time zone NOT NULL,
	"processed_at" timestamp with time zone,
	"attempts" integer DEFAULT 0 NOT NULL,
	"last_error" text,
	CONSTRAINT "inbox_shop_id_system_delivery_id_pk" PRIMARY KEY("shop_id","system","delivery_id")
);
--> statement-breakpoint
CREATE TABLE "kv" (
	"shop_id" text NOT NULL,
	"key" text NOT NULL,
	"value" text NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	CONSTRAINT "kv_shop_id_key_pk" PRIMARY KEY("shop_id","key")
);
--> statement-breakpoint
CREATE TABLE "opt_in_tokens" (
	"shop_id" text NOT NULL,
	"token_id" text NOT NULL,
	"subject_id" text NOT NULL,
	"purposes" jsonb NOT NULL,
	"issued_at" timestamp with time zone NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"used_at" timestamp with time zone,
	CONSTRAINT "opt_in_tokens_shop_id_token_id_pk" PRIMARY KEY("shop_id","token_id")
);
--> statement-breakpoint
CREATE TABLE "outbox" (
	"shop_id" text NOT NULL,
	"id" bigint GENERATED ALWAYS AS IDENTITY (sequence name "outbox_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"target" text NOT NULL,
	"kind" text NOT NULL,
	"subject_id" text,
	"payload_enc" "bytea",
	"status" text DEFAULT 'pending' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp with time zone NOT NULL,
	"last_error" text,
	"created_at" timestamp with time zone NOT NULL,
	"delivered_at" timestamp with time zone,
	CONSTRAINT "outbox_shop_id_id_pk" PRIMARY KEY("shop_id","id")
);
--> statement-breakpoint
CREATE TABLE "purpose_versions" (
	"shop_id" text NOT NULL,
	"key" text NOT NULL,
	"version" text NOT NULL,
	"document_url" text NOT NULL,
	"clause" text NOT NULL,
	"recorded_at" timestamp with time zone NOT NULL,
	CONSTRAINT "purpose_versions_shop_id_key_version_pk" PRIMARY KEY("shop_id","key","version")
);
--> statement-breakpoint
CREATE TABLE "purposes" (
	"shop_id" text NOT NULL,
	"key" text NOT NULL,
	"title" text NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"document_url" text NOT NULL,
	"clause" text NOT NULL,
	"version" text NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	CONSTRAINT "purposes_shop_id_key_pk" PRIMARY KEY("shop_id","key")
);
--> statement-breakpoint
CREATE TABLE "pushed_consent" (
	"shop_id" text NOT NULL,
	"system" text NOT NULL,
	"subject_id" text NOT NULL,
	"purpose" text NOT NULL,
	"state" text NOT NULL,
	"occurred_at" timestamp with time zone NOT NULL,
	"pushed_at" timestamp with time zone NOT NULL,
	CONSTRAINT "pushed_consent_shop_id_system_subject_id_purpose_pk" PRIMARY KEY("shop_id","system","subject_id","purpose")
);
--> statement-breakpoint
CREATE TABLE "shops" (
	"shop_id" text PRIMARY KEY NOT NULL,
	"wrapped_key" "bytea" NOT NULL,
	"settings" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"ledger_seq" bigint DEFAULT 0 NOT NULL,
	"ledger_head" text DEFAULT '' NOT NULL,
	"audit_seq" bigint DEFAULT 0 NOT NULL,
	"audit_head" text DEFAULT '' NOT NULL,
	"created_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "subjects" (
	"shop_id" text NOT NULL,
	"subject_id" text NOT NULL,
	"email_index" "bytea" NOT NULL,
	"email_enc" "bytea" NOT NULL,
	"wrapped_key" "bytea",
	"external_ids" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"erased_at" timestamp with time zone,
	CONSTRAINT "subjects_shop_id_subject_id_pk" PRIMARY KEY("shop_id","subject_id")
);
--> statement-breakpoint
CREATE TABLE "suppression" (
	"shop_id" text NOT NULL,
	"email_index" "bytea" NOT NULL,
	"reason" text NOT NULL,
	"request_id" text,
	"at" timestamp with time zone NOT NULL,
	CONSTRAINT "suppression_shop_id_email_index_pk" PRIMARY KEY("shop_id","email_index")
);
--> statement-breakpoint
CREATE INDEX "audit_log_subject" ON "audit_log" USING btree ("shop_id","subject_id");--> statement-breakpoint
CREATE INDEX "audit_log_at" ON "audit_log" USING btree ("shop_id","at");--> statement-breakpoint
CREATE UNIQUE INDEX "consent_ledger_source" ON "consent_ledger" USING btree ("shop_id","source_system","source_event_id");--> statement-breakpoint
CREATE INDEX "consent_ledger_subject" ON "consent_ledger" USING btree ("shop_id","subject_id","purpose");--> statement-breakpoint
CREATE INDEX "consent_state_purpose" ON "consent_state" USING btree ("shop_id","purpose","state");--> statement-breakpoint
CREATE INDEX "inbox_pending" ON "inbox" USING btree ("processed_at","received_at");--> statement-breakpoint
CREATE INDEX "outbox_due" ON "outbox" USING btree ("status","next_attempt_at");--> statement-breakpoint
CREATE UNIQUE INDEX "subjects_email_index" ON "subjects" USING btree ("shop_id","email_index");