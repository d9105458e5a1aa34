CREATE TABLE "contact_sends" (
	"shop_id" text NOT NULL,
	"subject_id" text NOT NULL,
	"send_id" text NOT NULL,
	"sent_at" timestamp with time zone NOT NULL,
	"campaign" text,
	"product_ids" jsonb DEFAULT '[]'::jsonb NOT NULL,
	CONSTRAINT "contact_sends_shop_id_subject_id_send_id_pk" PRIMARY KEY("shop_id","subject_id","send_id")
);
--> statement-breakpoint
CREATE TABLE "profiles" (
	"shop_id" text NOT NULL,
	"subject_id" text NOT NULL,
	"attrs_enc" "bytea",
	"attr_index" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"attr_keys" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"gender" text,
	"age" integer,
	"age_valid_until" timestamp with time zone,
	"country" text,
	"region" text,
	"interests" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"order_count" integer DEFAULT 0 NOT NULL,
	"revenue" numeric(14, 2) DEFAULT 0 NOT NULL,
	"first_order_at" timestamp with time zone,
	"last_order_at" timestamp with time zone,
	"recency_score" smallint,
	"frequency_score" smallint,
	"monetary_score" smallint,
	"rfm_label" text,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	CONSTRAINT "profiles_shop_id_subject_id_pk" PRIMARY KEY("shop_id","subject_id")
);
--> statement-breakpoint
CREATE TABLE "segments" (
	"shop_id" text NOT NULL,
	"name" text NOT NULL,
	"definition" jsonb NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	CONSTRAINT "segments_shop_id_name_pk" PRIMARY KEY("shop_id","name")
);
--> statement-breakpoint
CREATE INDEX "contact_sends_at" ON "contact_sends" USING btree ("shop_id","subject_id","sent_at");--> statement-breakpoint
CREATE INDEX "profiles_country" ON "profiles" USING btree ("shop_id","country");--> statement-breakpoint
CREATE INDEX "profiles_rfm" ON "profiles" USING btree ("shop_id","rfm_label");--> statement-breakpoint
CREATE INDEX "profiles_revenue" ON "profiles" USING btree ("shop_id","revenue");--> statement-breakpoint
CREATE INDEX "orders_customer_ref" ON "orders" USING btree ("shop_id","customer_ref");