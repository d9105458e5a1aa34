CREATE TABLE "campaign_recipients" (
	"shop_id" text NOT NULL,
	"campaign" text NOT NULL,
	"subject_id" text NOT NULL,
	"wave" integer NOT NULL,
	"status" text NOT NULL,
	"product_ids" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"sent_at" timestamp with time zone,
	CONSTRAINT "campaign_recipients_shop_id_campaign_subject_id_pk" PRIMARY KEY("shop_id","campaign","subject_id")
);
--> statement-breakpoint
CREATE TABLE "campaign_waves" (
	"shop_id" text NOT NULL,
	"campaign" text NOT NULL,
	"wave" integer NOT NULL,
	"status" text NOT NULL,
	"system" text NOT NULL,
	"claimed_by" text NOT NULL,
	"lease_until" timestamp with time zone NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"sent_at" timestamp with time zone,
	"provider_campaign_id" text,
	"sends" integer DEFAULT 0 NOT NULL,
	"failed" integer DEFAULT 0 NOT NULL,
	"opens" integer DEFAULT 0 NOT NULL,
	"clicks" integer DEFAULT 0 NOT NULL,
	"unsubscribes" integer DEFAULT 0 NOT NULL,
	"report_at" timestamp with time zone,
	CONSTRAINT "campaign_waves_shop_id_campaign_wave_pk" PRIMARY KEY("shop_id","campaign","wave")
);
--> statement-breakpoint
CREATE TABLE "campaigns" (
	"shop_id" text NOT NULL,
	"name" text NOT NULL,
	"subject" text NOT NULL,
	"segment" jsonb,
	"created_at" timestamp with time zone NOT NULL,
	"last_run_at" timestamp with time zone NOT NULL,
	CONSTRAINT "campaigns_shop_id_name_pk" PRIMARY KEY("shop_id","name")
);
--> statement-breakpoint
ALTER TABLE "subjects" ADD COLUMN "undeliverable_at" timestamp with time zone;--> statement-breakpoint
CREATE INDEX "campaign_recipients_wave" ON "campaign_recipients" USING btree ("shop_id","campaign","wave");--> statement-breakpoint
CREATE INDEX "campaign_recipients_subject" ON "campaign_recipients" USING btree ("shop_id","subject_id");--> statement-breakpoint
CREATE INDEX "campaign_waves_status" ON "campaign_waves" USING btree ("shop_id","status","lease_until");