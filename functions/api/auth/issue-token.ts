/**
 * POST /v3/auth/tokens: issue an X-Auth-Token for one project, to a caller that proves its
 * AK/SK with a signature. IAM-shaped: the token comes back in X-Subject-Token.
 */
import { z } from 'zod';
import { credentialStore, type CredentialStore } from '../../../lib/auth/credentials.js';
import { UnauthorizedError } from '../../../lib/errors.js';
import { apiHandler } from '../../../lib/http/api-handler.js';
import { reply } from '../../../lib/http/envelope.js';
import { Id } from '../../../lib/validation.js';

export const IssueTokenRequest = z.object({
  body: z.object({ auth: z.object({ scope: z.object({ project: z.object({ id: Id }) }) }) }),
});

export const makeHandler = (credentials: () => CredentialStore = credentialStore) =>
  apiHandler(
    IssueTokenRequest,
    async ({ body }, ctx) => {
      const projectId = body.auth.scope.project.id;
      const cred = await credentials().get(ctx.caller.accessKey!);
      if (!cred?.projectIds.includes(projectId)) throw new UnauthorizedError('the access key is not authorized for this project');
      const issued = await credentials().issueToken(cred.accessKey, projectId);
      return reply(201, { token: { expires_at: issued.expiresAt, project: { id: projectId } } }, { 'x-subject-token': issued.token });
    },
    { auth: 'signature', credentials },
  );

export const handler = makeHandler();
