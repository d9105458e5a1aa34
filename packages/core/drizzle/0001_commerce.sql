CREATE TABLE "model_pairs" (
	"shop_id" text NOT NULL,
	"product_a" text NOT NULL,
	"product_b" text NOT NULL,
	"count" integer NOT NULL,
	CONSTRAINT "model_pairs_shop_id_product_a_product_b_pk" PRIMARY KEY("shop_id","product_a","product_b")
);
--> statement-breakpoint
CREATE TABLE "model_products" (
	"shop_id" text NOT NULL,
	"product_id" text NOT NULL,
	"count" integer NOT NULL,
	CONSTRAINT "model_products_shop_id_product_id_pk" PRIMARY KEY("shop_id","product_id")
);
--> statement-breakpoint
CREATE TABLE "model_state" (
	"shop_id" text PRIMARY KEY NOT NULL,
	"basket_count" integer DEFAULT 0 NOT NULL,
	"revision" bigint DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE TABLE "order_lines" (
	"shop_id" text NOT NULL,
	"order_id" text NOT NULL,
	"line_no" integer NOT NULL,
	"product_id" text NOT NULL,
	"quantity" integer NOT NULL,
	"price" text,
	CONSTRAINT "order_lines_shop_id_order_id_line_no_pk" PRIMARY KEY("shop_id","order_id","line_no")
);
--> statement-breakpoint
CREATE TABLE "orders" (
	"shop_id" text NOT NULL,
	"order_id" text NOT NULL,
	"name" text,
	"subject_id" text,
	"customer_ref" text,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	"cancelled_at" timestamp with time zone,
	"refunded" boolean DEFAULT false NOT NULL,
	"currency" text,
	"total_price" text,
	"counted" boolean DEFAULT false NOT NULL,
	"source" text NOT NULL,
	CONSTRAINT "orders_shop_id_order_id_pk" PRIMARY KEY("shop_id","order_id")
);
--> statement-breakpoint
CREATE TABLE "products" (
	"shop_id" text NOT NULL,
	"product_id" text NOT NULL,
	"title" text NOT NULL,
	"handle" text,
	"url" text,
	"image_url" text,
	"price" text,
	"category" text,
	"available" boolean DEFAULT true NOT NULL,
	"status" text DEFAULT 'active' NOT NULL,
	"replenish_days" integer,
	"updated_at" timestamp with time zone NOT NULL,
	CONSTRAINT "products_shop_id_product_id_pk" PRIMARY KEY("shop_id","product_id")
);
--> statement-breakpoint
CREATE INDEX "orders_subject" ON "orders" USING btree ("shop_id","subject_id");