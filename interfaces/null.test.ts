import { NullInterface } from './null.ts';
import { dataInterfaceContract } from './testing/contract-suite.ts';

dataInterfaceContract('null', async () => new NullInterface(), { shapesOnly: true });
