CREATE TABLE "model_fit" (
	"shop_id" text PRIMARY KEY NOT NULL,
	"revision" bigint NOT NULL,
	"basket_count" integer NOT NULL,
	"lambda" double precision NOT NULL,
	"product_ids" jsonb NOT NULL,
	"weights" "bytea" NOT NULL,
	"fitted_at" timestamp with time zone NOT NULL,
	"fit_ms" double precision NOT NULL
);
