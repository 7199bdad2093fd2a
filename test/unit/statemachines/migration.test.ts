import { describeStateMachine } from '../../helpers/asl.js';

describeStateMachine('migration', 'statemachines/migration.asl.yml', 'MarkFailed');
