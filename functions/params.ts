import { z } from 'zod';
import { logicalNameSchema, profileNameSchema } from '../shared/profile/profile';

export const profileParams = z.object({ name: profileNameSchema });
export const tableParams = z.object({ name: profileNameSchema, table: logicalNameSchema });
