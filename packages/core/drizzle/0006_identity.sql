CREATE TABLE "subject_identifiers" (
	"shop_id" text NOT NULL,
	"subject_id" text NOT NULL,
	"kind" text NOT NULL,
	"value_index" "bytea" NOT NULL,
	"value_enc" "bytea" NOT NULL,
	"valid_from" timestamp with time zone NOT NULL,
	"valid_to" timestamp with time zone,
	CONSTRAINT "subject_identifiers_shop_id_subject_id_kind_value_index_valid_from_pk" PRIMARY KEY("shop_id","subject_id","kind","value_index","valid_from")
);
--> statement-breakpoint
ALTER TABLE "pushed_consent" ADD COLUMN "in_flight" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "pushed_consent" ADD COLUMN "reported_state" text;--> statement-breakpoint
ALTER TABLE "pushed_consent" ADD COLUMN "reported_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "subjects" ADD COLUMN "merged_into" text;--> statement-breakpoint
ALTER TABLE "suppression" ADD COLUMN "kind" text DEFAULT 'email' NOT NULL;--> statement-breakpoint
CREATE UNIQUE INDEX "subject_identifiers_current" ON "subject_identifiers" USING btree ("shop_id","kind","value_index") WHERE valid_to is null;--> statement-breakpoint
CREATE INDEX "subject_identifiers_value" ON "subject_identifiers" USING btree ("shop_id","value_index");