import { describeStateMachine } from '../../helpers/asl.js';

describeStateMachine('compare', 'statemachines/compare.asl.yml', 'CompareMarkFailed');
