/**
 * `@edgecart/client`: a typed client of the edgecart HTTP API.
 *
 * The types (`./schema.js`) are generated from the server's OpenAPI document by
 * openapi-typescript; calls go through openapi-fetch. {@link createClient} adds what every
 * caller would otherwise write: the bearer tokens, an `Idempotency-Key` on charges and orders,
 * and refusals thrown as {@link EdgecartError}.
 */

import createFetchClient, { type Client } from "openapi-fetch";

import { EdgecartError } from "./errors.js";
import { credentials, newIdempotencyKey, type TokenSource } from "./middleware.js";
import type {
  CreateProduct,
  CreateUser,
  HistoryPage,
  OrderRequest,
  OrderView,
  PopularView,
  ProductPage,
  ProductView,
  UpdateProduct,
  UpdateUser,
  UserView,
  paths,
} from "./schema.js";

export { EdgecartError } from "./errors.js";
export type { TokenSource } from "./middleware.js";
export type * from "./schema.js";

/** Where the server is and who is calling. */
export interface ClientOptions {
  /** The server, e.g. `http://127.0.0.1:8080`. */
  baseUrl: string;
  /** The end user's token (a JWT), sent to `/api/v1/users/…` and `/api/v1/orders…`. */
  token?: TokenSource;
  /** An admin API token, sent to `/admin/…`. */
  adminToken?: TokenSource;
  /** The `fetch` to call (default: the global one). */
  fetch?: typeof globalThis.fetch;
}

/** For a charge or an order: the `Idempotency-Key` (default: a new random UUID). */
export interface Idempotent {
  /** Send the same key again to get the first answer again instead of a second effect. */
  idempotencyKey?: string;
}

/** A page request: `limit` 1 to 100 (default 20), `cursor` a previous page's `nextCursor`. */
export interface PageQuery {
  /** Items per page. */
  limit?: number;
  /** Where to go on from. */
  cursor?: string;
}

/** The popular list, or word that the list named by the given ETag is still current. */
export type PopularAnswer =
  | { notModified: false; items: PopularView[]; etag: string | null }
  | { notModified: true; etag: string };

/** The calls of the admin API that seed and change users and products. */
export interface AdminCalls {
  /** Creates a user; `amount` is the opening balance. */
  createUser(user: CreateUser): Promise<UserView>;
  /** Changes a user's `name`, `hpNo` or `attributes`. */
  updateUser(userId: number, changes: UpdateUser): Promise<UserView>;
  /** Creates a product. */
  createProduct(product: CreateProduct): Promise<ProductView>;
  /** Changes a product's `name`, `price`, `stock` or `attributes`. */
  updateProduct(productId: number, changes: UpdateProduct): Promise<ProductView>;
}

/** The API's calls; each resolves to the answer's body or throws {@link EdgecartError}. */
export interface EdgecartClient {
  /**
   * openapi-fetch over every path of the document, with the same tokens and idempotency keys,
   * for the calls below does not cover: it answers `{ data, error, response }` and throws nothing.
   */
  readonly api: Client<paths>;
  /** A user's balance. */
  balance(userId: number): Promise<UserView>;
  /** Charges points to a user; the answer is the user with the new balance. */
  charge(userId: number, chargeAmount: number, options?: Idempotent): Promise<UserView>;
  /** A user's points history, newest first. */
  pointsHistory(userId: number, page?: PageQuery): Promise<HistoryPage>;
  /** One product. */
  product(productId: number): Promise<ProductView>;
  /** Products ordered by id. */
  products(page?: PageQuery): Promise<ProductPage>;
  /** The 5 products sold most in 72 hours; with `etag`, only whether that list is current. */
  popular(options?: { etag?: string }): Promise<PopularAnswer>;
  /** Orders and pays with points (201: `PAID`). */
  placeOrder(order: OrderRequest, options?: Idempotent): Promise<OrderView>;
  /** One order. */
  order(orderId: number): Promise<OrderView>;
  /** Cancels an order (again: the same answer). */
  cancelOrder(orderId: number): Promise<OrderView>;
  /** The admin API (needs `adminToken`). */
  readonly admin: AdminCalls;
}

/** What an openapi-fetch call resolves to. */
interface Answer<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

/** The body of a 2xx answer, or the refusal as an {@link EdgecartError}. */
function bodyOf<T>({ data, error, response }: Answer<T>): T {
  if (!response.ok) {
    throw new EdgecartError(response, error);
  }
  return data as T;
}

/** {@link bodyOf} the answer of a call. */
async function body<T>(call: Promise<Answer<T>>): Promise<T> {
  return bodyOf(await call);
}

/** A client of the server at `options.baseUrl`. */
export function createClient(options: ClientOptions): EdgecartClient {
  const api = createFetchClient<paths>({ baseUrl: options.baseUrl, fetch: options.fetch });
  api.use(credentials(options.token, options.adminToken));
  const key = (given?: Idempotent) => given?.idempotencyKey ?? newIdempotencyKey();
  return {
    api,
    balance: (userId) =>
      body(api.GET("/api/v1/users/{userId}", { params: { path: { userId } } })),
    charge: (userId, chargeAmount, given) =>
      body(
        api.POST("/api/v1/users/{userId}/charge", {
          params: { path: { userId }, header: { "Idempotency-Key": key(given) } },
          body: { chargeAmount },
        }),
      ),
    pointsHistory: (userId, page) =>
      body(
        api.GET("/api/v1/users/{userId}/points/history", {
          params: { path: { userId }, query: page },
        }),
      ),
    product: (productId) =>
      body(api.GET("/api/v1/products/{productId}", { params: { path: { productId } } })),
    products: (page) => body(api.GET("/api/v1/products", { params: { query: page } })),
    popular: async ({ etag } = {}) => {
      const answer = await api.GET("/api/v1/products/popular", {
        params: { header: etag === undefined ? {} : { "If-None-Match": etag } },
      });
      const current = answer.response.headers.get("ETag");
      if (answer.response.status === 304) {
        return { notModified: true, etag: current ?? etag ?? "" };
      }
      return { notModified: false, items: bodyOf(answer), etag: current };
    },
    placeOrder: (order, given) =>
      body(
        api.POST("/api/v1/orders", {
          params: { header: { "Idempotency-Key": key(given) } },
          body: order,
        }),
      ),
    order: (orderId) =>
      body(api.GET("/api/v1/orders/{orderId}", { params: { path: { orderId } } })),
    cancelOrder: (orderId) =>
      body(api.POST("/api/v1/orders/{orderId}/cancel", { params: { path: { orderId } } })),
    admin: {
      createUser: (user) => body(api.POST("/admin/v1/users", { body: user })),
      updateUser: (id, changes) =>
        body(api.PATCH("/admin/v1/users/{id}", { params: { path: { id } }, body: changes })),
      createProduct: (product) => body(api.POST("/admin/v1/products", { body: product })),
      updateProduct: (id, changes) =>
        body(api.PATCH("/admin/v1/products/{id}", { params: { path: { id } }, body: changes })),
    },
  };
}
