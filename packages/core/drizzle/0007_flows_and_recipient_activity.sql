CREATE TABLE "flow_steps" (
	"shop_id" text NOT NULL,
	"flow_id" text NOT NULL,
	"order_id" text NOT NULL,
	"subject_id" text,
	"ordered_at" timestamp with time zone NOT NULL,
	"due_at" timestamp with time zone NOT NULL,
	"status" text NOT NULL,
	"reason" text,
	"waits" integer DEFAULT 0 NOT NULL,
	"send_key" text,
	"delivery" text,
	"claimed_by" text,
	"lease_until" timestamp with time zone,
	"product_ids" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"decided_at" timestamp with time zone,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	CONSTRAINT "flow_steps_shop_id_flow_id_order_id_pk" PRIMARY KEY("shop_id","flow_id","order_id")
);
--> statement-breakpoint
CREATE TABLE "flows" (
	"shop_id" text NOT NULL,
	"flow_id" text NOT NULL,
	"enabled" boolean DEFAULT false NOT NULL,
	"delay_days" integer NOT NULL,
	"window_start" text NOT NULL,
	"window_end" text NOT NULL,
	"holdout_share" double precision NOT NULL,
	"journey_id" text,
	"step_id" text,
	"max_products" integer NOT NULL,
	"subject" text NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	CONSTRAINT "flows_shop_id_flow_id_pk" PRIMARY KEY("shop_id","flow_id")
);
--> statement-breakpoint
ALTER TABLE "campaign_recipients" ADD COLUMN "opened" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "campaign_recipients" ADD COLUMN "clicked" boolean DEFAULT false NOT NULL;--> statement-breakpoint
CREATE INDEX "flow_steps_due" ON "flow_steps" USING btree ("shop_id","status","due_at");--> statement-breakpoint
CREATE INDEX "flow_steps_subject" ON "flow_steps" USING btree ("shop_id","subject_id");