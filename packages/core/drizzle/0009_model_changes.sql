CREATE TABLE "model_changes" (
	"shop_id" text NOT NULL,
	"revision" bigint NOT NULL,
	"delta" jsonb NOT NULL,
	CONSTRAINT "model_changes_shop_id_revision_pk" PRIMARY KEY("shop_id","revision")
);
--> statement-breakpoint
ALTER TABLE "orders" ADD COLUMN "model_revision" bigint;--> statement-breakpoint
CREATE INDEX "orders_model_revision" ON "orders" USING btree ("shop_id","model_revision");