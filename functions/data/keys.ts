/**
 * Key design of the single table. Every item has `pk`, `sk` and `entity`; items that need a
 * second look-up also carry `gsi1pk`/`gsi1sk`.
 *
 * Organization partition `ORG#<orgId>` (membership checks and org data share it, so a read
 * route can fetch both in one BatchGet or Query):
 *   META                              Organization   name, ownerCount, stripeCustomerId
 *   MEMBER#<userId>                   Membership     role, email, lifetimeSpentMicros,
 *                                                    spentByMonth{YYYY-MM}; gsi1: USER#<userId>
 *   LLM#ORG                           OrgLlmSettings
 *   LLM#MEMBER#<userId>               MemberLlmOverride
 *   BALANCE                           CreditBalance  balanceMicros and totals
 *   LEDGER#<isoTime>#<entryId>        LedgerEntry    (newest first with ScanIndexForward=false)
 *   APPLIED#<idempotencyKey>          IdempotencyMarker (written in the same transaction)
 *   CHECKOUT#<sessionId>              CheckoutSession
 *   CLAIM#<claimId>                   OrgGitClaim    the org's view of its claims
 *
 * User partition `USER#<userId>`:
 *   PROFILE                           UserProfile    email; gsi1: EMAIL#<lower email>
 *   GITACCOUNT#<provider>             GitAccount     gitUserId, login, encrypted token;
 *                                                    gsi1: GITLOGIN#<provider>#<lower login>
 *
 * Git organization partitions (uniqueness across the service, conditional writes):
 *   GITORG#<provider>#<gitOrgId> / CLAIM          GitClaim   orgId, login, status
 *   GITALIAS#<provider>#<lower login or path> / ALIAS   GitAlias   gitOrgId
 *
 * Payment partitions (map a Stripe PaymentIntent back to its organization for refunds/disputes):
 *   PAYMENT#<paymentIntentId> / PAYMENT           PaymentLink  orgId, checkoutSessionId
 */
export const orgPkPrefix = 'ORG#';
export const orgPk = (orgId: string) => `${orgPkPrefix}${orgId}`;
export const orgMetaSk = 'META';
export const memberSk = (userId: string) => `MEMBER#${userId}`;
export const memberSkPrefix = 'MEMBER#';
export const orgLlmSk = 'LLM#ORG';
export const memberLlmSk = (userId: string) => `LLM#MEMBER#${userId}`;
export const balanceSk = 'BALANCE';
export const ledgerSk = (isoTime: string, entryId: string) => `LEDGER#${isoTime}#${entryId}`;
export const ledgerSkPrefix = 'LEDGER#';
export const appliedSk = (idempotencyKey: string) => `APPLIED#${idempotencyKey}`;
export const checkoutSk = (sessionId: string) => `CHECKOUT#${sessionId}`;
export const orgClaimSk = (claimId: string) => `CLAIM#${claimId}`;
export const orgClaimSkPrefix = 'CLAIM#';

export const userPk = (userId: string) => `USER#${userId}`;
export const userProfileSk = 'PROFILE';
export const emailGsiPk = (email: string) => `EMAIL#${email.toLowerCase()}`;
export const gitAccountSk = (provider: string) => `GITACCOUNT#${provider}`;
export const gitLoginGsiPk = (provider: string, login: string) =>
  `GITLOGIN#${provider}#${login.toLowerCase()}`;

export const gitOrgPk = (provider: string, gitOrgId: string) => `GITORG#${provider}#${gitOrgId}`;
export const gitOrgClaimSk = 'CLAIM';
export const gitAliasPk = (provider: string, loginOrPath: string) =>
  `GITALIAS#${provider}#${loginOrPath.toLowerCase()}`;
export const gitAliasSk = 'ALIAS';

export const paymentPk = (paymentIntentId: string) => `PAYMENT#${paymentIntentId}`;
export const paymentSk = 'PAYMENT';

export const gsi1 = 'gsi1';
