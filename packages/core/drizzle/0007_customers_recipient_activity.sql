ALTER TABLE "campaign_recipients" ADD COLUMN "opened" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "campaign_recipients" ADD COLUMN "clicked" boolean DEFAULT false NOT NULL;