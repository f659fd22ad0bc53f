import { Router } from 'express';
import { ArrayMaxSize, ArrayUnique, IsArray, IsIn, Matches } from 'class-validator';
import { USER_ID, USER_ID_RULE } from '../../domain/shared/userId.js';
import { validBody } from '../http.js';
import { IsText } from '../text.js';
import { ROLES } from './authenticate.js';

/** The development issuer as its routes need it; implemented in infrastructure. */
export interface TokenIssuer {
  sign(claims: { sub: string; roles: readonly string[] }): { token: string; expiresIn: number };
  jwks(): { keys: object[] };
}

class TokenRequest {
  @IsText()
  @Matches(USER_ID, { message: `sub must be ${USER_ID_RULE}` })
  sub!: string;

  @IsArray()
  @ArrayUnique()
  @ArrayMaxSize(ROLES.length)
  @IsIn(ROLES, { each: true })
  roles!: string[];
}

/** `POST /dev/token` and `GET /.well-known/jwks.json`; mounted only when the development issuer runs. */
export function devIssuerRoutes(issuer: TokenIssuer): Router {
  const router = Router();
  router.post('/dev/token', async (request, response) => {
    const { sub, roles } = await validBody(TokenRequest, request.body);
    const { token, expiresIn } = issuer.sign({ sub, roles });
    response.setHeader('Cache-Control', 'no-store');
    response.json({ access_token: token, token_type: 'Bearer', expires_in: expiresIn });
  });
  router.get('/.well-known/jwks.json', (_request, response) => {
    response.setHeader('Cache-Control', 'public, max-age=300');
    response.json(issuer.jwks());
  });
  return router;
}
