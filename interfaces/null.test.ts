import { NullInterface } from './null.ts';
import { dataInterfaceContract } from './testing/contract-suite.ts';
import { httpContract } from './testing/http-contract.ts';

dataInterfaceContract('null', async () => new NullInterface(), { shapesOnly: true });
httpContract('null', async () => new NullInterface(), { shapesOnly: true });
