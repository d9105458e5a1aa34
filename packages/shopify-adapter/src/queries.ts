/**
 * Every GraphQL document the adapter sends to the Shopify Admin API (version 2025-10), in one place so
 * a test can validate each of them against the published schema. Nothing else in the adapter writes
 * GraphQL.
 *
 * Consent is read from `Customer.emailMarketingConsent` (deprecated in 2025-10 in favour of
 * `defaultEmailAddress.marketing*`, but still served and the only field whose states include REDACTED);
 * the address itself from `defaultEmailAddress.emailAddress`.
 */
export const API_VERSION = '2025-10';

const customerFields = /* GraphQL */ `
  id
  firstName
  lastName
  createdAt
  updatedAt
  tags
  defaultEmailAddress { emailAddress }
  defaultPhoneNumber { phoneNumber }
  defaultAddress { city province countryCodeV2 }
  emailMarketingConsent { marketingState marketingOptInLevel consentUpdatedAt }
`;

const orderFields = /* GraphQL */ `
  id
  name
  email
  createdAt
  updatedAt
  cancelledAt
  displayFinancialStatus
  currencyCode
  totalPriceSet { shopMoney { amount } }
  customer { id }
`;

const lineItemFields = /* GraphQL */ `
  id
  title
  quantity
  product { id }
  variant { id }
  originalUnitPriceSet { shopMoney { amount } }
`;

const productFields = /* GraphQL */ `
  id
  title
  handle
  onlineStoreUrl
  status
  updatedAt
  productType
  tracksInventory
  totalInventory
  featuredMedia { preview { image { url } } }
  priceRangeV2 { minVariantPrice { amount } }
`;

/** Customers in id order; `query` narrows to `updated_at:>='…'` for incremental pulls (consent changes touch updated_at). */
export const CUSTOMERS_PAGE = /* GraphQL */ `
  query TactfulCustomers($first: Int!, $after: String, $query: String) {
    customers(first: $first, after: $after, sortKey: ID, query: $query) {
      nodes { ${customerFields} }
      pageInfo { hasNextPage endCursor }
    }
  }
`;

export const CUSTOMER_BY_EMAIL = /* GraphQL */ `
  query TactfulCustomerByEmail($email: String!) {
    customerByIdentifier(identifier: { emailAddress: $email }) { ${customerFields} }
  }
`;

/** Orders in id order; `query` narrows to `updated_at:>='…'` for incremental pulls. */
export const ORDERS_PAGE = /* GraphQL */ `
  query TactfulOrders($first: Int!, $after: String, $query: String, $lines: Int!) {
    orders(first: $first, after: $after, sortKey: ID, query: $query) {
      nodes {
        ${orderFields}
        lineItems(first: $lines) {
          nodes { ${lineItemFields} }
          pageInfo { hasNextPage endCursor }
        }
      }
      pageInfo { hasNextPage endCursor }
    }
  }
`;

/** The rest of one order's line items, when it has more than fit in an orders page. */
export const ORDER_LINES = /* GraphQL */ `
  query TactfulOrderLines($id: ID!, $after: String) {
    node(id: $id) {
      ... on Order {
        lineItems(first: 100, after: $after) {
          nodes { ${lineItemFields} }
          pageInfo { hasNextPage endCursor }
        }
      }
    }
  }
`;

export const PRODUCTS_PAGE = /* GraphQL */ `
  query TactfulProducts($first: Int!, $after: String) {
    products(first: $first, after: $after, sortKey: ID) {
      nodes { ${productFields} }
      pageInfo { hasNextPage endCursor }
    }
  }
`;

/** The query run in bulk for the full order import (line items come back as child lines). */
export const BULK_ORDERS_QUERY = /* GraphQL */ `
  {
    orders(sortKey: ID) {
      edges {
        node {
          ${orderFields}
          lineItems {
            edges { node { ${lineItemFields} } }
          }
        }
      }
    }
  }
`;

/** Every customer with their consent, in bulk. */
export const BULK_CUSTOMERS_QUERY = /* GraphQL */ `
  {
    customers {
      edges { node { ${customerFields} } }
    }
  }
`;

const bulkOperationFields = /* GraphQL */ `
  id
  status
  errorCode
  objectCount
  rootObjectCount
  url
  partialDataUrl
  createdAt
  completedAt
`;

export const BULK_RUN = /* GraphQL */ `
  mutation TactfulBulkRun($query: String!, $groupObjects: Boolean!) {
    bulkOperationRunQuery(query: $query, groupObjects: $groupObjects) {
      bulkOperation { ${bulkOperationFields} }
      userErrors { field message code }
    }
  }
`;

export const BULK_CURRENT = /* GraphQL */ `
  query TactfulBulkCurrent {
    currentBulkOperation(type: QUERY) { ${bulkOperationFields} }
  }
`;

export const BULK_BY_ID = /* GraphQL */ `
  query TactfulBulkById($id: ID!) {
    node(id: $id) { ... on BulkOperation { ${bulkOperationFields} } }
  }
`;

export const CONSENT_UPDATE = /* GraphQL */ `
  mutation TactfulConsentUpdate($input: CustomerEmailMarketingConsentUpdateInput!) {
    customerEmailMarketingConsentUpdate(input: $input) {
      customer {
        id
        emailMarketingConsent { marketingState marketingOptInLevel consentUpdatedAt }
      }
      userErrors { field message code }
    }
  }
`;

export const CUSTOMER_ERASURE = /* GraphQL */ `
  mutation TactfulCustomerErasure($customerId: ID!) {
    customerRequestDataErasure(customerId: $customerId) {
      customerId
      userErrors { field message code }
    }
  }
`;

/** A customer's correction of their own names (rectification), pushed by Tactful. */
export const CUSTOMER_UPDATE = /* GraphQL */ `
  mutation TactfulCustomerUpdate($input: CustomerInput!) {
    customerUpdate(input: $input) {
      customer { id firstName lastName }
      userErrors { field message }
    }
  }
`;

export const SHOP_INFO = /* GraphQL */ `
  query TactfulShop {
    shop { name myshopifyDomain primaryDomain { url } currencyCode }
  }
`;

/** All documents, named, for the schema test and for the sandbox's cost table. */
export const allDocuments: Readonly<Record<string, string>> = {
  CUSTOMERS_PAGE,
  CUSTOMER_BY_EMAIL,
  ORDERS_PAGE,
  ORDER_LINES,
  PRODUCTS_PAGE,
  BULK_ORDERS_QUERY,
  BULK_CUSTOMERS_QUERY,
  BULK_RUN,
  BULK_CURRENT,
  BULK_BY_ID,
  CONSENT_UPDATE,
  CUSTOMER_ERASURE,
  CUSTOMER_UPDATE,
  SHOP_INFO,
};
